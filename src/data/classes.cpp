// Class lists and class selection (data/classes.h).
#include "nabla/data/classes.h"

#include <algorithm>
#include <cstdlib>

#include "nabla/error.h"

namespace nabla::data {

namespace {

// A non-negative decimal integer, or -1.
int64_t parse_index(const std::string& text) {
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos)
    return -1;
  return std::stoll(text);
}

}  // namespace

std::vector<int64_t> parse_class_list(const std::string& spec, int64_t num_classes,
                                      const std::string& option) {
  const std::string range = "[0, " + std::to_string(num_classes) + ")";
  const std::string form = "; write class indices in " + range + " and ranges, e.g. 0-4 or 5,6,7";
  NABLA_CHECK(!spec.empty(), option, ": empty class list", form);
  std::vector<int64_t> classes;
  size_t begin = 0;
  while (begin <= spec.size()) {
    size_t comma = spec.find(',', begin);
    if (comma == std::string::npos) comma = spec.size();
    const std::string token = spec.substr(begin, comma - begin);
    const size_t dash = token.find('-');
    const int64_t first = parse_index(token.substr(0, dash));
    const int64_t last = dash == std::string::npos ? first : parse_index(token.substr(dash + 1));
    NABLA_CHECK(first >= 0 && last >= 0, option, ": '", token, "' is not a class index or range",
                form);
    NABLA_CHECK(first < num_classes && last < num_classes, option, ": class ",
                std::max(first, last), " in '", token, "' is outside ", range, " (the data has ",
                num_classes, " classes)");
    NABLA_CHECK(first <= last, option, ": the range '", token, "' runs backwards; write ", last,
                "-", first);
    for (int64_t c = first; c <= last; ++c) {
      NABLA_CHECK(std::find(classes.begin(), classes.end(), c) == classes.end(), option, ": class ",
                  c, " is listed twice (in '", token, "')");
      classes.push_back(c);
    }
    begin = comma + 1;
  }
  return classes;
}

Dataset select_classes(const Dataset& dataset, const std::vector<int64_t>& classes) {
  const int64_t n_classes = dataset.num_classes();
  NABLA_CHECK(!classes.empty(), dataset.name(), ": select_classes needs at least one class");
  // new_label[c]: class c's position in `classes`, or -1 when it is dropped.
  std::vector<int64_t> new_label(static_cast<size_t>(n_classes), -1);
  std::vector<std::string> names;
  for (size_t j = 0; j < classes.size(); ++j) {
    const int64_t c = classes[j];
    NABLA_CHECK(c >= 0 && c < n_classes, dataset.name(), ": class ", c, " is outside [0, ",
                n_classes, ")");
    NABLA_CHECK(new_label[c] < 0, dataset.name(), ": class ", c, " is selected twice");
    new_label[c] = static_cast<int64_t>(j);
    names.push_back(dataset.class_names()[c]);
  }
  const int64_t numel = dataset.sample_shape().numel();
  std::vector<int64_t> labels;
  std::vector<uint8_t> u8;
  std::vector<float> f32;
  for (int64_t i = 0; i < dataset.size(); ++i) {
    const int64_t label = new_label[dataset.label(i)];
    if (label < 0) continue;
    labels.push_back(label);
    if (dataset.is_uint8()) {
      const uint8_t* p = dataset.uint8_sample(i);
      u8.insert(u8.end(), p, p + numel);
    } else {
      const float* p = dataset.float_sample(i);
      f32.insert(f32.end(), p, p + numel);
    }
  }
  if (dataset.is_uint8())
    return Dataset::from_uint8(dataset.name(), dataset.sample_shape(), std::move(u8),
                               std::move(labels), std::move(names));
  return Dataset::from_float(dataset.name(), dataset.sample_shape(), std::move(f32),
                             std::move(labels), std::move(names));
}

}  // namespace nabla::data
