// CIFAR-10, binary version: records of 1 label byte + 3072 pixel bytes (R, G and B planes of
// 32 × 32), 10000 per file. The planes are already (C, H, W), so records are copied as they are.
#include <filesystem>

#include "data/byte_reader.h"
#include "nabla/data/datasets.h"
#include "nabla/error.h"

namespace nabla::data {

const std::vector<std::string>& cifar10_classes() {
  static const std::vector<std::string> names = {
      "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  return names;
}

namespace {

constexpr int64_t kPixels = 3 * 32 * 32;
constexpr int64_t kRecord = 1 + kPixels;
const char* const kCifarHint =
    "download the CIFAR-10 binary version (cifar-10-binary.tar.gz), unpack it, and pass the "
    "cifar-10-batches-bin directory as --data-dir";

}  // namespace

Dataset load_cifar10(const std::string& dir, Split split) {
  std::vector<std::string> names;
  if (split == Split::Train)
    for (int i = 1; i <= 5; ++i) names.push_back("data_batch_" + std::to_string(i) + ".bin");
  else
    names.push_back("test_batch.bin");
  // Accept the directory the archive unpacks to as well as the one inside it.
  std::filesystem::path base = dir;
  std::error_code ec;
  if (!std::filesystem::exists(base / names[0], ec) &&
      std::filesystem::exists(base / "cifar-10-batches-bin" / names[0], ec))
    base /= "cifar-10-batches-bin";

  std::vector<uint8_t> pixels;
  std::vector<int64_t> labels;
  for (const std::string& name : names) {
    detail::ByteReader in((base / name).string(), kCifarHint);
    // Whole records only; for a plain file this is checked before anything is allocated.
    if (!in.compressed())
      NABLA_CHECK(in.file_size() > 0 && in.file_size() % kRecord == 0, in.path(), ": size ",
                  in.file_size(), " bytes is not a positive multiple of the record size ", kRecord,
                  " (1 label byte + 3072 pixel bytes); the file is truncated or not CIFAR-10 "
                  "binary\n---> HINT: ",
                  kCifarHint);
    // 10000 records per official file; allow up to 2^20 so odd-sized batches still load.
    std::vector<uint8_t> bytes = in.read_rest(uint64_t{1} << 20 << 12, "CIFAR-10 records");
    NABLA_CHECK(!bytes.empty() && bytes.size() % kRecord == 0, in.path(), ": ", bytes.size(),
                " bytes of data is not a positive multiple of the record size ", kRecord);
    int64_t n = static_cast<int64_t>(bytes.size()) / kRecord;
    size_t first = labels.size();
    pixels.resize(pixels.size() + n * kPixels);
    labels.resize(first + n);
    uint8_t* out = pixels.data() + first * kPixels;
    for (int64_t r = 0; r < n; ++r) {
      const uint8_t* rec = bytes.data() + r * kRecord;
      NABLA_CHECK(rec[0] < 10, in.path(), ": ", in.where(r * kRecord), ": label ", int{rec[0]},
                  " of record ", r, " is outside [0, 10)");
      labels[first + r] = rec[0];
      std::copy(rec + 1, rec + kRecord, out + r * kPixels);
    }
  }
  return Dataset::from_uint8("cifar10", Shape{3, 32, 32}, std::move(pixels), std::move(labels),
                             cifar10_classes());
}

}  // namespace nabla::data
