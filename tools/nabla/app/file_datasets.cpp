// The data sets a run reads from files the user names: csv:TRAIN[,TEST] and folder:PATH
// (declared in app/run_detail.h; docs/data.md, "On the command line").
#include <filesystem>
#include <iostream>

#include "app/run_detail.h"
#include "nabla/data/image_folder.h"
#include "nabla/error.h"

namespace nabla::app::run_detail {

namespace fs = std::filesystem;

namespace {

// A data set without a test part of its own: a fifth of it (fixed by the seed) is the test set.
data::Dataset train_or_test_part(const data::Dataset& all, data::Split split, uint64_t seed) {
  auto parts = data::train_val_split(all, 0.2, seed ^ 0x7e57);
  return split == data::Split::Train ? parts.train : parts.val;
}

// The library's errors name its option fields; the command line's user needs the flag.
template <typename Load>
data::Dataset naming_flag(const char* field, const char* flag, Load load) {
  try {
    return load();
  } catch (const Error& e) {
    const std::string message = e.what();
    if (message.find(field) == std::string::npos) throw;
    detail::throw_error(message, " (on the command line: ", flag, ")");
  }
}

data::Dataset load_csv_file(const std::string& path, const RunOptions& o) {
  data::CsvOptions options;
  const std::string& column = o.label_column;
  if (!column.empty() && column.find_first_not_of("0123456789") == std::string::npos)
    options.label_index(std::stoll(column));
  else if (!column.empty())
    options.label_name(column);
  return naming_flag("CsvOptions::label_", "--label-column NAME|INDEX",
                     [&] { return data::load_csv(path, options); });
}

data::Dataset load_folder(const std::string& dir, const data::ImageFolderOptions& options,
                          bool report_skipped) {
  std::vector<std::string> skipped;
  data::Dataset d = naming_flag("ImageFolderOptions::skip_bad_images", "--skip-bad-images",
                                [&] { return data::load_image_folder(dir, options, &skipped); });
  if (report_skipped)
    for (const std::string& s : skipped) std::cerr << "skipped " << s << "\n";
  return d;
}

}  // namespace

bool is_file_dataset(const std::string& dataset) {
  return dataset.rfind("csv:", 0) == 0 || dataset.rfind("folder:", 0) == 0;
}

data::Dataset load_file_dataset(const RunOptions& o, data::Split split) {
  if (o.dataset.rfind("csv:", 0) == 0) {
    // csv:TRAIN[,TEST]
    const std::string paths = o.dataset.substr(4);
    const size_t comma = paths.find(',');
    const std::string train_path = paths.substr(0, comma);
    NABLA_CHECK(!train_path.empty(), "--dataset csv:PATH needs a path, e.g. csv:iris.csv");
    if (comma != std::string::npos)
      return load_csv_file(split == data::Split::Train ? train_path : paths.substr(comma + 1), o);
    return train_or_test_part(load_csv_file(train_path, o), split, o.seed);
  }
  // folder:PATH, holding train/<class>/ and test/<class>/, or the <class>/ folders themselves.
  const fs::path root = o.dataset.substr(7);
  NABLA_CHECK(!root.empty(), "--dataset folder:PATH needs a directory, e.g. folder:pets");
  data::ImageFolderOptions options;
  options.skip_bad_images(o.skip_bad_images);
  if (!fs::is_directory(root / "train"))
    return train_or_test_part(load_folder(root.string(), options, split == data::Split::Train),
                              split, o.seed);
  const bool train_split = split == data::Split::Train;
  const data::Dataset train = load_folder((root / "train").string(), options, train_split);
  if (train_split) return train;
  NABLA_CHECK(fs::is_directory(root / "test"), root.string(),
              ": has a train/ folder but no test/ folder beside it");
  // The test images take the training images' shape and class list.
  options.shape(train.sample_shape()).class_names(train.class_names());
  return load_folder((root / "test").string(), options, /*report_skipped=*/true);
}

}  // namespace nabla::app::run_detail
