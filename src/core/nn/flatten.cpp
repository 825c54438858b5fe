// Flatten layer: a reshape (Tensor::flatten), which records its own backward.
#include "nabla/nn/flatten.h"

#include "nn/layer_checks.h"

namespace nabla::nn {

Tensor Flatten::forward(const Tensor& input) {
  const int64_t rank = input.dim();
  auto valid = [rank](int64_t d) { return d >= -rank && d < rank; };
  NABLA_CHECK(valid(options.start_dim()) && valid(options.end_dim()),
              "Flatten(start_dim=", options.start_dim(), ", end_dim=", options.end_dim(),
              "): input ", input.shape(), " has only ", rank, " dims");
  return input.flatten(options.start_dim(), options.end_dim());
}

std::string Flatten::extra_repr() const {
  return "start_dim=" + std::to_string(options.start_dim()) +
         ", end_dim=" + std::to_string(options.end_dim());
}

// ---- the description: {"type": "flatten", "start_dim": 1, "end_dim": -1} ----

namespace {

using namespace layer_checks;

LayerShape infer_flatten(LayerConfig& c, const PerSample& s) {
  const int64_t start = c.integer("start_dim"), end = c.integer("end_dim");
  const int64_t a = full_dim("start_dim", start, s), b = full_dim("end_dim", end, s);
  NABLA_CHECK(a != 0, "start_dim ", start, " would merge the batch dim; use 1 or more");
  NABLA_CHECK(a <= b, "start_dim ", start, " comes after end_dim ", end);
  PerSample out(s.begin(), s.begin() + (a - 1));
  int64_t merged = 1;
  for (int64_t i = a; i <= b; ++i)
    NABLA_CHECK(!__builtin_mul_overflow(merged, s[i - 1], &merged), "flattening input ",
                per_sample_str(s), " gives more than 2^63 features");
  out.push_back(merged);
  out.insert(out.end(), s.begin() + b, s.end());
  return {.output = out};
}

std::shared_ptr<Module> make_flatten(const LayerConfig& c, Generator&) {
  return std::make_shared<Flatten>(
      FlattenOptions().start_dim(c.integer("start_dim")).end_dim(c.integer("end_dim")));
}

}  // namespace

const LayerType& Flatten::description() {
  static const LayerType type{
      "flatten",
      {FieldSpec::integer("start_dim", 1), FieldSpec::integer("end_dim", -1)},
      infer_flatten,
      make_flatten};
  return type;
}

LayerConfig Flatten::config() const {
  return LayerConfig().set("start_dim", options.start_dim()).set("end_dim", options.end_dim());
}

}  // namespace nabla::nn
