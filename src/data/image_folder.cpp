// Image folders: one sub-folder per class, fitted to one sample shape (data/image_folder.h).
#include "nabla/data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>

#include "nabla/error.h"

namespace nabla::data {

namespace fs = std::filesystem;

namespace {

// One output pixel of a resized axis: the source pixels it reads and their weights (sum 1).
struct Taps {
  std::vector<int64_t> index;
  std::vector<float> weight;
};

// The rule of fit_image for one axis of `in` pixels resized to `out`.
std::vector<Taps> axis_taps(int64_t in, int64_t out) {
  std::vector<Taps> taps(static_cast<size_t>(out));
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  for (int64_t o = 0; o < out; ++o) {
    Taps& t = taps[static_cast<size_t>(o)];
    if (out < in) {
      // Box: output pixel o covers source [o·scale, (o+1)·scale).
      const double lo = o * scale, hi = (o + 1) * scale;
      for (auto i = static_cast<int64_t>(lo); i < in && static_cast<double>(i) < hi; ++i) {
        const double cover = std::min<double>(hi, i + 1) - std::max<double>(lo, i);
        if (cover <= 0) continue;
        t.index.push_back(i);
        t.weight.push_back(static_cast<float>(cover / scale));
      }
    } else {
      // Linear between centres: output centre o + 0.5 sits at source (o + 0.5)·scale.
      const double x = std::clamp((o + 0.5) * scale - 0.5, 0.0, static_cast<double>(in - 1));
      const auto i = static_cast<int64_t>(x);
      const auto f = static_cast<float>(x - static_cast<double>(i));
      t.index = {i, std::min(i + 1, in - 1)};
      t.weight = {1 - f, f};
    }
  }
  return taps;
}

bool is_image_name(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

std::vector<std::string> sorted_entries(const fs::path& dir, bool directories) {
  std::vector<std::string> names;
  for (const fs::directory_entry& e : fs::directory_iterator(dir))
    if (directories ? e.is_directory() : (e.is_regular_file() && is_image_name(e.path())))
      names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// The image files of `dir`, with their class labels, classes in label order.
struct Listing {
  std::vector<std::string> classes;
  std::vector<std::string> paths;
  std::vector<int64_t> labels;
};

Listing list_folder(const std::string& dir, const ImageFolderOptions& options) {
  NABLA_CHECK(fs::is_directory(dir), dir,
              ": not a directory; an image folder holds one sub-folder of images per class");
  const std::vector<std::string> folders = sorted_entries(dir, /*directories=*/true);
  NABLA_CHECK(!folders.empty(), dir,
              ": no class sub-folders; put each class's images in DIR/<class name>/");
  Listing l;
  l.classes = options.class_names().empty() ? folders : options.class_names();
  for (const std::string& folder : folders) {
    const auto it = std::find(l.classes.begin(), l.classes.end(), folder);
    NABLA_CHECK(it != l.classes.end(), dir, ": class folder '", folder,
                "' is not one of the training classes (", l.classes.size(), " of them, first '",
                l.classes.front(), "')");
    for (const std::string& file : sorted_entries(fs::path(dir) / folder, /*directories=*/false)) {
      l.paths.push_back((fs::path(dir) / folder / file).string());
      l.labels.push_back(it - l.classes.begin());
    }
  }
  NABLA_CHECK(!l.paths.empty(), dir, ": no .png, .jpg or .jpeg files in its class folders (",
              folders.size(), " of them)");
  return l;
}

// The shape rule over the decoded images.
Shape shape_by_rule(const std::vector<PlanarImage>& images) {
  int64_t channels = 1;
  std::map<std::pair<int64_t, int64_t>, int64_t> count;
  std::pair<int64_t, int64_t> best{0, 0};
  int64_t best_count = 0;
  for (const PlanarImage& im : images) {
    channels = std::max(channels, im.channels);
    const int64_t n = ++count[{im.height, im.width}];
    if (n > best_count) {  // strictly more: a tie keeps the size met first
      best_count = n;
      best = {im.height, im.width};
    }
  }
  return Shape{channels, best.first, best.second};
}

// Decodes each file, skipping (and listing) those that fail when asked to.
std::vector<PlanarImage> read_all(Listing& l, const ImageFolderOptions& options,
                                  std::vector<std::string>* skipped) {
  std::vector<PlanarImage> images;
  Listing kept{l.classes, {}, {}};
  for (size_t i = 0; i < l.paths.size(); ++i) {
    try {
      images.push_back(read_image_file(l.paths[i]));
    } catch (const Error& e) {
      if (!options.skip_bad_images())
        detail::throw_error(e.what(), "\n---> HINT: ImageFolderOptions::skip_bad_images leaves ",
                            "out the files that cannot be decoded");
      if (skipped) skipped->push_back(e.what());
      continue;
    }
    kept.paths.push_back(l.paths[i]);
    kept.labels.push_back(l.labels[i]);
  }
  NABLA_CHECK(!images.empty(), "every one of the ", l.paths.size(),
              " images is unreadable (skip_bad_images skipped them all)");
  l = std::move(kept);
  return images;
}

}  // namespace

PlanarImage fit_image(const PlanarImage& image, const Shape& shape) {
  NABLA_CHECK(shape.size() == 3 && (shape[0] == 1 || shape[0] == 3) && shape[1] > 0 && shape[2] > 0,
              "fit_image: the shape must be (C, H, W) with C 1 or 3, got ", shape);
  const int64_t c_out = shape[0], h = shape[1], w = shape[2];
  const int64_t n_in = image.height * image.width;
  // Channels first, at the source size.
  std::vector<float> planes(static_cast<size_t>(c_out * n_in));
  for (int64_t c = 0; c < c_out; ++c)
    for (int64_t i = 0; i < n_in; ++i) {
      const auto px = [&](int64_t k) { return image.pixels[static_cast<size_t>(k * n_in + i)]; };
      float v;
      if (image.channels == c_out)
        v = px(c);
      else if (c_out == 3)
        v = px(0);
      else
        v = std::round(0.299f * px(0) + 0.587f * px(1) + 0.114f * px(2));
      planes[static_cast<size_t>(c * n_in + i)] = v;
    }
  const std::vector<Taps> xs = axis_taps(image.width, w), ys = axis_taps(image.height, h);
  PlanarImage out{c_out, h, w, std::vector<uint8_t>(static_cast<size_t>(c_out * h * w))};
  std::vector<float> rows(static_cast<size_t>(image.height * w));
  for (int64_t c = 0; c < c_out; ++c) {
    const float* src = &planes[static_cast<size_t>(c * n_in)];
    for (int64_t y = 0; y < image.height; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const Taps& t = xs[static_cast<size_t>(x)];
        float s = 0;
        for (size_t k = 0; k < t.index.size(); ++k)
          s += t.weight[k] * src[y * image.width + t.index[k]];
        rows[static_cast<size_t>(y * w + x)] = s;
      }
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const Taps& t = ys[static_cast<size_t>(y)];
        float s = 0;
        for (size_t k = 0; k < t.index.size(); ++k)
          s += t.weight[k] * rows[static_cast<size_t>(t.index[k] * w + x)];
        out.pixels[static_cast<size_t>((c * h + y) * w + x)] =
            static_cast<uint8_t>(std::clamp(std::lround(s), 0L, 255L));
      }
  }
  return out;
}

Dataset load_image_folder(const std::string& dir, const ImageFolderOptions& options,
                          std::vector<std::string>* skipped) {
  Listing l = list_folder(dir, options);
  const std::vector<PlanarImage> images = read_all(l, options, skipped);
  const Shape shape = options.shape().empty() ? shape_by_rule(images) : options.shape();
  std::vector<uint8_t> samples;
  samples.reserve(static_cast<size_t>(shape.numel()) * images.size());
  for (const PlanarImage& im : images) {
    const PlanarImage fitted = fit_image(im, shape);
    samples.insert(samples.end(), fitted.pixels.begin(), fitted.pixels.end());
  }
  return Dataset::from_uint8(dir, shape, std::move(samples), std::move(l.labels),
                             std::move(l.classes));
}

}  // namespace nabla::data
