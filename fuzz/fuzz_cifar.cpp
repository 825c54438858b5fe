// load_cifar10 on one arbitrary test_batch.bin (plain, or gzip-compressed if the bytes say so).
#include "fuzz_util.h"
#include "nabla/data/datasets.h"
#include "nabla/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nabla::fuzz::write_input("test_batch.bin", data, size);
  try {
    nabla::data::Dataset d =
        nabla::data::load_cifar10(nabla::fuzz::scratch_dir().string(), nabla::data::Split::Test);
    if (d.size() < 1) std::abort();  // an accepted file holds at least one record
  } catch (const nabla::Error&) {
  }
  return 0;
}
