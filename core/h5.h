// Thin RAII wrappers over the HDF5 C API; every failure becomes a strike::Error naming the file.
#pragma once
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace strike::h5 {

// Element types strike stores. Names match the manifest's "dtype" strings.
enum class DType { kUInt8, kInt32, kInt64, kFloat32, kFloat64 };
DType dtype_from_string(const std::string& name);  // "uint8", "int32", "int64", "float32", "float64"
std::string to_string(DType dtype);
size_t dtype_size(DType dtype);

// Owns one HDF5 identifier and closes it with the right H5*close.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  Handle(Handle&& other) noexcept : id_(other.id_) { other.id_ = -1; }
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();

 private:
  hid_t id_ = -1;
};

// An open HDF5 file. All read/write helpers take the path for error messages.
class File {
 public:
  // Creates (truncating) a file for writing.
  static File create(const std::string& path);
  // Opens an existing file read-only; throws naming the path if it is missing or not HDF5.
  static File open(const std::string& path);

  const std::string& path() const { return path_; }
  hid_t id() const { return handle_.get(); }
  void flush();
  void close() { handle_.reset(); }

  // Groups: "a/b" creates intermediate groups.
  void create_group(const std::string& name);
  bool exists(const std::string& name) const;
  // Direct children (datasets and groups) of a group, in creation order where tracked.
  std::vector<std::string> list(const std::string& group) const;

  // Writes a whole dataset with contiguous layout.
  void write(const std::string& name, DType dtype, const std::vector<int64_t>& dims, const void* data);
  // Creates a fixed-size contiguous dataset to be filled by write_rows.
  void create_dataset(const std::string& name, DType dtype, const std::vector<int64_t>& dims);
  // Creates a 1-D chunked dataset that starts empty and grows with append_rows (ragged values,
  // whose total length is known only once the last row is written).
  void create_growable(const std::string& name, DType dtype, int64_t chunk_elements);
  // Appends `count` elements to a dataset made by create_growable.
  void append_rows(const std::string& name, int64_t count, const void* data);
  // Writes rows [start, start+count) along the first dimension.
  void write_rows(const std::string& name, int64_t start, int64_t count, const void* data);

  // Shape and element type of a dataset.
  std::vector<int64_t> dims(const std::string& name) const;
  DType dtype(const std::string& name) const;
  // Reads a whole dataset into `out` (must hold product(dims) elements of `dtype`).
  void read(const std::string& name, DType dtype, void* out) const;
  // Reads rows [start, start+count) along the first dimension.
  void read_rows(const std::string& name, DType dtype, int64_t start, int64_t count, void* out) const;

  // A text blob (config, manifest) as a scalar string dataset: attributes are capped at 64 KiB.
  void write_text(const std::string& name, const std::string& text);
  std::string read_text(const std::string& name) const;

  // String and integer attributes on the root or on any object.
  void set_attr(const std::string& object, const std::string& key, const std::string& value);
  void set_attr(const std::string& object, const std::string& key, int64_t value);
  std::string attr_string(const std::string& object, const std::string& key) const;
  int64_t attr_int(const std::string& object, const std::string& key) const;
  bool has_attr(const std::string& object, const std::string& key) const;

 private:
  File(Handle handle, std::string path) : handle_(std::move(handle)), path_(std::move(path)) {}
  Handle handle_;
  std::string path_;
};

}  // namespace strike::h5
