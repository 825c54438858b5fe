// NABLA_ARG: named, chainable options, as in the PyTorch C++ frontend's TORCH_ARG.
//
//   struct LinearOptions {
//     LinearOptions(int64_t in_features, int64_t out_features);
//     NABLA_ARG(int64_t, in_features);
//     NABLA_ARG(bool, bias) = true;  // the default sits in the header, next to the name
//   };
//   Linear fc(LinearOptions(2, 8).bias(false));
//   fc.options.bias();  // false
//
// Each NABLA_ARG(T, name) declares a setter name(value) that returns the options (so setters
// chain), a getter name(), and a private member name_ that the default initialises.
#pragma once

#define NABLA_ARG(T, name)          \
 public:                            \
  auto& name(T const& new_##name) { \
    this->name##_ = new_##name;     \
    return *this;                   \
  }                                 \
  T const& name() const noexcept {  \
    return this->name##_;           \
  }                                 \
                                    \
 private:                           \
  T name##_
