// IDX parsing through zlib's gz* calls, which read plain files unchanged and gzip transparently.
#include "dataset_tools/idx_source.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <memory>
#include <numeric>

#include "core/error.h"

namespace strike::data {

namespace fs = std::filesystem;

namespace {

const char* const kFashionClasses[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                       "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
const char* const kHint = "re-download the dataset; IDX files are described at http://yann.lecun.com/exdb/mnist/";

std::vector<uint8_t> read_all(const std::string& path) {
  if (!fs::is_regular_file(path)) throw Error("IDX file does not exist", path, "check the --input directory");
  std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzopen(path.c_str(), "rb"), &gzclose);
  if (!file) throw Error("cannot open IDX file", path, "check that it is readable");
  std::vector<uint8_t> bytes;
  std::array<uint8_t, 1 << 16> buffer;
  int n;
  while ((n = gzread(file.get(), buffer.data(), buffer.size())) > 0) bytes.insert(bytes.end(), buffer.begin(), buffer.begin() + n);
  int status = Z_OK;
  const char* message = gzerror(file.get(), &status);
  if (n < 0 || (status != Z_OK && status != Z_STREAM_END)) {
    throw Error(std::string("cannot decompress IDX file (truncated or corrupt gzip): ") + message, path, kHint);
  }
  return bytes;
}

uint32_t big_endian(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string hex_magic(const uint8_t* p) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "0x%08x", big_endian(p));
  return buffer;
}

}  // namespace

IdxArray read_idx(const std::string& path, int ndims) {
  std::vector<uint8_t> bytes = read_all(path);
  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  if (bytes.size() < 4) throw Error("IDX file is truncated: no header", path, kHint);
  const uint8_t expected[4] = {0, 0, 0x08, static_cast<uint8_t>(ndims)};
  if (!std::equal(expected, expected + 4, bytes.begin())) {
    throw Error("wrong IDX magic number " + hex_magic(bytes.data()) + ", expected " + hex_magic(expected) +
                    " (unsigned bytes, " + std::to_string(ndims) + " dimension" + (ndims == 1 ? "" : "s") + ")",
                path, "check that the file is the right one of the images/labels pair, and not corrupt");
  }
  if (bytes.size() < header) throw Error("IDX file is truncated inside its header", path, kHint);
  IdxArray array;
  for (int d = 0; d < ndims; ++d) array.dims.push_back(big_endian(bytes.data() + 4 + 4 * d));
  const int64_t expected_bytes = std::accumulate(array.dims.begin(), array.dims.end(), int64_t{1}, std::multiplies<int64_t>());
  const int64_t actual_bytes = static_cast<int64_t>(bytes.size() - header);
  if (actual_bytes != expected_bytes) {
    throw Error(std::string(actual_bytes < expected_bytes ? "IDX file is truncated" : "IDX file has trailing bytes") +
                    ": its header promises " + std::to_string(expected_bytes) + " bytes of data, it holds " +
                    std::to_string(actual_bytes),
                path, kHint);
  }
  array.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return array;
}

std::string find_idx_file(const std::string& dir, const std::string& stem) {
  std::string dotted = stem;
  size_t dash = dotted.find("-idx");
  if (dash != std::string::npos) dotted[dash] = '.';
  for (const std::string& name : {stem, dotted}) {
    for (const char* suffix : {".gz", ""}) {
      fs::path candidate = fs::path(dir) / (name + suffix);
      if (fs::is_regular_file(candidate)) return candidate.string();
    }
  }
  return "";
}

namespace {

class IdxSource : public ImageSource {
 public:
  explicit IdxSource(const std::string& dir) {
    load_part(dir, "train", Part::kTrain, true);
    load_part(dir, "t10k", Part::kTest, false);
    classes_from(dir);
  }
  std::string kind() const override { return "idx"; }
  const std::vector<std::string>& class_names() const override { return class_names_; }
  bool has(Part part) const override { return !parts_[index(part)].images_path.empty(); }
  const std::vector<int64_t>& labels(Part part) const override { return parts_[index(part)].labels; }
  int64_t native_channels() const override { return 1; }
  std::pair<int64_t, int64_t> uniform_size() const override { return {height_, width_}; }
  bool in_memory() const override { return true; }

  core::Image load(Part part, int64_t i) const override {
    const auto& p = parts_[index(part)];
    const size_t plane = static_cast<size_t>(height_ * width_);
    core::Image image{1, height_, width_, {}};
    image.pixels.assign(p.images.begin() + i * plane, p.images.begin() + (i + 1) * plane);
    return image;
  }
  std::string describe(Part part, int64_t i) const override {
    return parts_[index(part)].images_path + " (image " + std::to_string(i) + ")";
  }

 private:
  struct PartData {
    std::string images_path, labels_path;
    std::vector<uint8_t> images;
    std::vector<int64_t> labels;
  };
  static size_t index(Part part) { return static_cast<size_t>(part); }

  void load_part(const std::string& dir, const std::string& prefix, Part part, bool required) {
    std::string images_path = find_idx_file(dir, prefix + "-images-idx3-ubyte");
    std::string labels_path = find_idx_file(dir, prefix + "-labels-idx1-ubyte");
    if (images_path.empty() && labels_path.empty() && !required) return;
    if (images_path.empty()) {
      throw Error("missing " + prefix + "-images-idx3-ubyte[.gz]", dir, "IDX datasets need images and labels files");
    }
    if (labels_path.empty()) {
      throw Error("missing " + prefix + "-labels-idx1-ubyte[.gz]", dir, "IDX datasets need images and labels files");
    }
    IdxArray images = read_idx(images_path, 3);
    IdxArray labels = read_idx(labels_path, 1);
    if (images.dims[0] != labels.dims[0]) {
      throw Error("holds " + std::to_string(labels.dims[0]) + " labels but " + images_path + " holds " +
                      std::to_string(images.dims[0]) + " images",
                  labels_path, "the images and labels files must come from the same release");
    }
    if (height_ == 0) {
      height_ = images.dims[1];
      width_ = images.dims[2];
    } else if (images.dims[1] != height_ || images.dims[2] != width_) {
      throw Error("images are " + std::to_string(images.dims[1]) + "x" + std::to_string(images.dims[2]) +
                      " but the train images are " + std::to_string(height_) + "x" + std::to_string(width_),
                  images_path, "train and test files must come from the same dataset");
    }
    PartData& p = parts_[index(part)];
    p.images_path = images_path;
    p.labels_path = labels_path;
    p.images = std::move(images.data);
    p.labels.assign(labels.data.begin(), labels.data.end());
  }

  void classes_from(const std::string& dir) {
    std::string lowered = fs::absolute(dir).string();
    std::transform(lowered.begin(), lowered.end(), lowered.begin(), [](unsigned char ch) { return std::tolower(ch); });
    const bool fashion = lowered.find("fashion") != std::string::npos;
    int64_t num_classes = 10;  // MNIST's digits; larger labels (EMNIST and the like) add classes
    for (const auto& p : parts_) {
      for (int64_t label : p.labels) {
        if (fashion && label >= 10) {
          throw Error("label " + std::to_string(label) + " is not a Fashion-MNIST class (0-9)", p.labels_path,
                      "check the labels file, or rename the directory if it is not Fashion-MNIST");
        }
        num_classes = std::max(num_classes, label + 1);
      }
    }
    for (int64_t c = 0; c < num_classes; ++c) class_names_.push_back(fashion ? kFashionClasses[c] : std::to_string(c));
  }

  std::array<PartData, 3> parts_;
  int64_t height_ = 0, width_ = 0;
  std::vector<std::string> class_names_;
};

}  // namespace

std::unique_ptr<ImageSource> open_idx_source(const std::string& dir) { return std::make_unique<IdxSource>(dir); }

}  // namespace strike::data
