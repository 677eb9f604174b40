// IDX files (MNIST, Fashion-MNIST and relatives), gzipped or not, as an ImageSource.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataset_tools/source.h"

namespace strike::data {

// One IDX array of unsigned bytes.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;  // product(dims) bytes, row-major
};

// Reads an IDX file (gzip detected from the content, not the name) whose magic must be
// 0x0000 08 `ndims` (unsigned bytes). Throws Error naming the file if it is missing, not IDX,
// has another element type or rank, or is truncated.
IdxArray read_idx(const std::string& path, int ndims);

// The path of `stem` (e.g. "train-images-idx3-ubyte") in `dir`, gzipped or not, also under the
// "train-images.idx3-ubyte" spelling some mirrors use; empty if none exists.
std::string find_idx_file(const std::string& dir, const std::string& stem);

// Loads train-{images,labels} and, when present, t10k-{images,labels} (the test part) into memory.
// Class names are Fashion-MNIST's when the directory's path contains "fashion", else "0", "1", ...
std::unique_ptr<ImageSource> open_idx_source(const std::string& dir);

}  // namespace strike::data
