// load_csv on arbitrary text. The first byte picks the options (header mode, delimiter, label
// column, num_classes), so one corpus covers all of them; the rest is the file.
#include "fuzz_util.h"
#include "nabla/data/datasets.h"
#include "nabla/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t pick = data[0];
  nabla::data::CsvOptions options;
  using Header = nabla::data::CsvOptions::Header;
  options.header((pick & 3) == 0 ? Header::Auto : (pick & 3) == 1 ? Header::Yes : Header::No);
  options.delimiter((pick & 4) ? ';' : ',');
  if (pick & 8) options.label_index(0);
  if (pick & 16) options.num_classes(3);
  if (pick & 32) options.label_name("label");
  const std::string path = nabla::fuzz::write_input("input.csv", data + 1, size - 1);
  try {
    nabla::data::Dataset d = nabla::data::load_csv(path, options);
    if (d.size() < 1) std::abort();
  } catch (const nabla::Error&) {
  }
  return 0;
}
