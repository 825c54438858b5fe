// MNIST and Fashion-MNIST: two IDX files per split, images (N, 28, 28) and labels (N).
#include <filesystem>

#include "nabla/data/datasets.h"
#include "nabla/data/idx.h"
#include "nabla/error.h"

namespace nabla::data {

const std::vector<std::string>& fashion_mnist_classes() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                 "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                 "Bag",         "Ankle boot"};
  return names;
}

const std::vector<std::string>& mnist_classes() {
  static const std::vector<std::string> names = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  return names;
}

namespace {

// "train-images-idx3-ubyte" -> the first of its accepted spellings present in dir, or throws.
std::string find_idx_file(const std::string& dataset, const std::string& dir,
                          const std::string& stem, const std::string& hint) {
  std::string dotted = stem;  // LeCun's site spells some files "train-images.idx3-ubyte"
  dotted[dotted.rfind("-idx")] = '.';
  std::vector<std::string> tried;
  for (const std::string& name : {stem + ".gz", stem, dotted + ".gz", dotted}) {
    std::filesystem::path p = std::filesystem::path(dir) / name;
    std::error_code ec;
    if (std::filesystem::is_regular_file(p, ec)) return p.string();
    tried.push_back(name);
  }
  std::string list;
  for (const auto& t : tried) list += (list.empty() ? "" : ", ") + t;
  nabla::detail::throw_error(dataset, ": no ", stem, " file in ", dir, " (looked for ", list, ")",
                             "\n---> HINT: ", hint);
}

Dataset load_idx_pair(const std::string& dataset, const std::string& dir, Split split,
                      const std::vector<std::string>& classes, const std::string& hint) {
  std::string prefix = split == Split::Train ? "train" : "t10k";
  std::string images_path = find_idx_file(dataset, dir, prefix + "-images-idx3-ubyte", hint);
  std::string labels_path = find_idx_file(dataset, dir, prefix + "-labels-idx1-ubyte", hint);
  IdxArray labels = read_idx(labels_path, hint);
  NABLA_CHECK(labels.dims.size() == 1, labels_path, ": byte 3: a label file has 1 dimension, ",
              "found ", labels.dims.size());
  // The images are the big file: check its header against the labels before trusting it.
  IdxArray images = read_idx(images_path, hint);
  NABLA_CHECK(images.dims.size() == 3, images_path, ": byte 3: an image file has 3 dimensions ",
              "(N, H, W), found ", images.dims.size());
  NABLA_CHECK(images.dims[0] == labels.dims[0], images_path, ": byte 4: ", images.dims[0],
              " images, but ", labels_path, " has ", labels.dims[0], " labels");

  auto n_classes = static_cast<int64_t>(classes.size());
  std::vector<int64_t> label_values(labels.data.size());
  for (size_t i = 0; i < labels.data.size(); ++i) {
    label_values[i] = labels.data[i];
    // Labels start after the 8-byte header (magic + one extent).
    NABLA_CHECK(label_values[i] < n_classes, labels_path, ": byte ", 8 + i, ": label ",
                label_values[i], " of sample ", i, " is outside [0, ", n_classes, ")");
  }
  return Dataset::from_uint8(dataset, Shape{1, images.dims[1], images.dims[2]},
                             std::move(images.data), std::move(label_values), classes);
}

}  // namespace

Dataset load_fashion_mnist(const std::string& dir, Split split) {
  return load_idx_pair("fashion-mnist", dir, split, fashion_mnist_classes(),
                       "install dataset-fashion-mnist (apt install dataset-fashion-mnist, files "
                       "in " +
                           std::string(kFashionMnistDir) + ") or pass --data-dir");
}

Dataset load_mnist(const std::string& dir, Split split) {
  return load_idx_pair("mnist", dir, split, mnist_classes(),
                       "put MNIST's four IDX files (train-images-idx3-ubyte.gz, ...) in one "
                       "directory and pass it as --data-dir");
}

}  // namespace nabla::data
