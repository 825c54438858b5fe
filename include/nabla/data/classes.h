// Selecting classes of a data set: a k-class problem made from some of a larger set's classes,
// as transfer learning's experiments need (pretrain on Fashion-MNIST classes 0-4, fine-tune on
// 5-9).
//
//   std::vector<int64_t> keep = data::parse_class_list("5-9", train.num_classes());
//   data::Dataset five = data::select_classes(train, keep);   // labels 0..4, names kept
//
// Not here: merging classes, class names as the spec (Fashion-MNIST's contain '-' and spaces).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nabla/data/dataset.h"

namespace nabla::data {

// Class indices from a comma-separated list of indices and inclusive ranges ("0-4",
// "5,6,7,8,9", "0-2,7"), in the order written. Throws naming `option` (the CLI passes its flag),
// the bad token and the valid range [0, num_classes) for anything else: a non-number, an index out
// of range, a range that runs backwards, a class listed twice, an empty list.
std::vector<int64_t> parse_class_list(const std::string& spec, int64_t num_classes,
                                      const std::string& option = "parse_class_list");

// The samples of `dataset` whose label is one of `classes`, in the dataset's order, with label
// classes[j] renumbered j and class_names() those of `classes` in that order. The samples are
// copied into a store of their own (the views of dataset.h cannot renumber labels).
// requires: classes non-empty, distinct, each in [0, num_classes()) (else throws naming it).
Dataset select_classes(const Dataset& dataset, const std::vector<int64_t>& classes);

}  // namespace nabla::data
