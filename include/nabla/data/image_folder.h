// Your own images: PNG and JPEG files in one folder per class (the layout of torchvision's
// ImageFolder), decoded through libpng and libjpeg-turbo and fitted to one sample shape.
//
//   data::Dataset train = data::load_image_folder("pets/train");
//   data::Dataset test = data::load_image_folder("pets/test", data::ImageFolderOptions()
//       .shape(train.sample_shape()).class_names(train.class_names()));
//
// The rule (docs/data.md, "Image folders"): class names are the sub-folder names, sorted; files
// ending .png, .jpg or .jpeg (any case) are read, other files are ignored; samples are (C, H, W)
// uint8 with C = 3 when any image is colour, else 1, and H × W the most common size (ties: the
// size met first in sorted order), unless the options fix the shape. Every image is converted to
// C channels and resized to H × W with fit_image().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nabla/arg.h"
#include "nabla/data/dataset.h"

namespace nabla::data {

// An 8-bit image as (C, H, W) planes, C = 1 (gray) or 3 (RGB).
struct PlanarImage {
  int64_t channels = 0, height = 0, width = 0;
  std::vector<uint8_t> pixels;
};

// A PNG or JPEG file, told apart by its first bytes. Gray files (and colour files whose every
// pixel has r == g == b) give 1 channel, others 3; PNG alpha is composited over black; 16-bit
// PNG samples are cut to 8 bits. Throws nabla::Error "PATH: what is wrong" for a missing,
// unreadable, truncated or corrupt file, a CMYK JPEG, or one of more than 2^28 pixels.
PlanarImage read_image_file(const std::string& path);

// `image` with `shape`'s (C, H, W): gray to RGB by copying, RGB to gray by ITU-R 601 luma
// (0.299 R + 0.587 G + 0.114 B, rounded); then each axis resized on its own, the width first:
// an axis that shrinks takes the area-weighted mean of the source pixels each output pixel
// covers (a box filter, as OpenCV's INTER_AREA and PIL's BOX), an axis that grows interpolates
// linearly between pixel centres (OpenCV's INTER_LINEAR). Sums in float, rounded at the end.
PlanarImage fit_image(const PlanarImage& image, const Shape& shape);

struct ImageFolderOptions {
  // (C, H, W) of the samples; empty: decided by the rule above from the folder's images.
  NABLA_ARG(Shape, shape) = Shape{};
  // The classes in label order; empty: the sub-folder names, sorted. Given (a test folder read
  // with the training folder's classes), a sub-folder not in the list is an error; a class
  // without a sub-folder has no samples.
  NABLA_ARG(std::vector<std::string>, class_names) = {};
  // A file that cannot be decoded is skipped (and listed in `skipped`) instead of thrown; thrown,
  // its error names this option.
  NABLA_ARG(bool, skip_bad_images) = false;
};

// Every image in dir/<class>/, classes in label order, files sorted by name. `skipped` (if not
// null) receives "PATH: what is wrong" for each image skipped by skip_bad_images. Throws when dir
// has no class folder or no image.
Dataset load_image_folder(const std::string& dir, const ImageFolderOptions& options = {},
                          std::vector<std::string>* skipped = nullptr);

}  // namespace nabla::data
