// Images for `nabla predict`: decode_image (PNG through cairo, PGM by hand) on arbitrary bytes,
// then what predict does with an accepted image: convert to gray and to RGB, resize to 28 x 28.
#include "fuzz_util.h"
#include "nabla/error.h"
#include "nabla/io/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    nabla::io::Image image = nabla::io::decode_image(bytes, "input");
    if (image.height < 1 || image.width < 1 || (image.channels != 1 && image.channels != 3) ||
        image.pixels.size() != static_cast<size_t>(image.height * image.width * image.channels))
      std::abort();
    for (int64_t channels : {1, 3}) {
      nabla::io::Image converted = nabla::io::convert_channels(image, channels);
      nabla::io::Image small = nabla::io::resize(converted, 28, 28);
      if (small.pixels.size() != static_cast<size_t>(28 * 28 * channels)) std::abort();
    }
  } catch (const nabla::Error&) {
  }
  return 0;
}
