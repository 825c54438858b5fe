// Loading a dataset by name, as the command line names them.
#include "nabla/data/datasets.h"

#include "nabla/error.h"

namespace nabla::data {

Dataset load_dataset(const std::string& name, const std::string& dir, Split split) {
  if (name == "fashion-mnist")
    return load_fashion_mnist(dir.empty() ? kFashionMnistDir : dir, split);
  NABLA_CHECK(name == "mnist" || name == "cifar10", "unknown dataset '", name,
              "'; expected fashion-mnist, mnist or cifar10");
  NABLA_CHECK(!dir.empty(), name, ": no default location; pass --data-dir");
  return name == "mnist" ? load_mnist(dir, split) : load_cifar10(dir, split);
}

}  // namespace nabla::data
