// HDF5 wrappers: quiet library errors, turned into exceptions with the file's path.
#include "core/h5.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace strike::h5 {

namespace {

// HDF5 prints a stack of its own on every failure; strike reports errors itself.
void silence_hdf5() {
  static const bool once = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)once;
}

hid_t native(DType dtype) {
  switch (dtype) {
    case DType::kUInt8: return H5T_NATIVE_UINT8;
    case DType::kInt32: return H5T_NATIVE_INT32;
    case DType::kInt64: return H5T_NATIVE_INT64;
    case DType::kFloat32: return H5T_NATIVE_FLOAT;
    case DType::kFloat64: return H5T_NATIVE_DOUBLE;
  }
  return -1;
}

hid_t check(hid_t id, const std::string& path, const std::string& what) {
  if (id < 0) throw Error("HDF5 failed to " + what, path, "the file may be truncated or corrupt; re-create it");
  return id;
}

void check_status(herr_t status, const std::string& path, const std::string& what) {
  if (status < 0) throw Error("HDF5 failed to " + what, path, "the file may be truncated or corrupt; re-create it");
}

std::vector<hsize_t> to_hsize(const std::vector<int64_t>& dims) { return {dims.begin(), dims.end()}; }

// A dataspace selecting rows [start, start+count) of a dataset with `dims`.
Handle row_space(hid_t dataset, int64_t start, int64_t count, const std::string& path, const std::string& name) {
  Handle space(check(H5Dget_space(dataset), path, "get dataspace of " + name));
  int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  if (rank < 1 || start < 0 || count < 0 || static_cast<hsize_t>(start + count) > dims[0]) {
    throw Error("rows [" + std::to_string(start) + ", " + std::to_string(start + count) + ") out of range for '" +
                    name + "' with " + std::to_string(rank ? dims[0] : 0) + " rows",
                path);
  }
  std::vector<hsize_t> offset(rank, 0), extent = dims;
  offset[0] = static_cast<hsize_t>(start);
  extent[0] = static_cast<hsize_t>(count);
  check_status(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, offset.data(), nullptr, extent.data(), nullptr), path,
               "select rows of " + name);
  return space;
}

// Creation properties (dataset or group) without modification times, so the same data makes the
// same bytes and shard checksums are reproducible.
Handle untimed(hid_t property_class) {
  Handle properties(H5Pcreate(property_class));
  H5Pset_obj_track_times(properties.get(), 0);
  return properties;
}

Handle memory_space(int64_t count, const std::vector<hsize_t>& tail) {
  std::vector<hsize_t> dims{static_cast<hsize_t>(count)};
  dims.insert(dims.end(), tail.begin(), tail.end());
  return Handle(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
}

std::vector<hsize_t> tail_dims(hid_t dataset) {
  Handle space(H5Dget_space(dataset));
  int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return {dims.begin() + 1, dims.end()};
}

}  // namespace

DType dtype_from_string(const std::string& name) {
  if (name == "uint8") return DType::kUInt8;
  if (name == "int32") return DType::kInt32;
  if (name == "int64") return DType::kInt64;
  if (name == "float32") return DType::kFloat32;
  if (name == "float64") return DType::kFloat64;
  throw Error("unknown dtype '" + name + "'", "", "expected uint8, int32, int64, float32 or float64");
}

std::string to_string(DType dtype) {
  switch (dtype) {
    case DType::kUInt8: return "uint8";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
  }
  return "?";
}

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kUInt8: return 1;
    case DType::kInt32: return 4;
    case DType::kInt64: return 8;
    case DType::kFloat32: return 4;
    case DType::kFloat64: return 8;
  }
  return 0;
}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    other.id_ = -1;
  }
  return *this;
}

void Handle::reset() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    default: break;
  }
  id_ = -1;
}

File File::create(const std::string& path) {
  silence_hdf5();
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  // Close everything with the file, so no dangling object keeps it half-open.
  H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
  hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get());
  if (id < 0) throw Error("cannot create HDF5 file", path, "check that the directory exists and is writable");
  return File(Handle(id), path);
}

File File::open(const std::string& path) {
  silence_hdf5();
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
  hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get());
  if (id < 0) throw Error("cannot open as HDF5 (missing, truncated or not an HDF5 file)", path,
                          "re-create the file, or run `strike data verify` on its dataset");
  return File(Handle(id), path);
}

void File::flush() { check_status(H5Fflush(id(), H5F_SCOPE_GLOBAL), path_, "flush"); }

void File::create_group(const std::string& name) {
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  Handle gcpl = untimed(H5P_GROUP_CREATE);
  Handle group(check(H5Gcreate2(id(), name.c_str(), lcpl.get(), gcpl.get(), H5P_DEFAULT), path_,
                     "create group " + name));
}

bool File::exists(const std::string& name) const {
  if (name == "/" || name.empty()) return true;
  // Check each path component, since H5Lexists fails on a missing intermediate link.
  std::string prefix;
  size_t pos = 0;
  while (pos != std::string::npos) {
    size_t next = name.find('/', pos + 1);
    prefix = name.substr(0, next);
    if (!prefix.empty() && prefix != "/" && H5Lexists(id(), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    pos = next;
  }
  return true;
}

std::vector<std::string> File::list(const std::string& group) const {
  Handle g(check(H5Gopen2(id(), group.c_str(), H5P_DEFAULT), path_, "open group " + group));
  H5G_info_t info;
  check_status(H5Gget_info(g.get(), &info), path_, "read group " + group);
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    ssize_t n = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (n < 0) throw Error("cannot list group " + group, path_);
    std::string name(static_cast<size_t>(n), '\0');
    H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), n + 1, H5P_DEFAULT);
    names.push_back(name);
  }
  return names;
}

void File::create_dataset(const std::string& name, DType dtype, const std::vector<int64_t>& dims) {
  auto hdims = to_hsize(dims);
  Handle space(H5Screate_simple(static_cast<int>(hdims.size()), hdims.data(), nullptr));
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  Handle dcpl = untimed(H5P_DATASET_CREATE);
  Handle ds(check(H5Dcreate2(id(), name.c_str(), native(dtype), space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
                  path_, "create dataset " + name));
}

void File::write(const std::string& name, DType dtype, const std::vector<int64_t>& dims, const void* data) {
  create_dataset(name, dtype, dims);
  Handle ds(check(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), path_, "open dataset " + name));
  int64_t total = std::accumulate(dims.begin(), dims.end(), int64_t{1}, std::multiplies<int64_t>());
  if (total > 0) check_status(H5Dwrite(ds.get(), native(dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT, data), path_, "write " + name);
}

void File::create_growable(const std::string& name, DType dtype, int64_t chunk_elements) {
  hsize_t dims[1] = {0}, max_dims[1] = {H5S_UNLIMITED}, chunk[1] = {static_cast<hsize_t>(std::max<int64_t>(1, chunk_elements))};
  Handle space(H5Screate_simple(1, dims, max_dims));
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  Handle dcpl = untimed(H5P_DATASET_CREATE);
  check_status(H5Pset_chunk(dcpl.get(), 1, chunk), path_, "set the chunk size of " + name);
  Handle ds(check(H5Dcreate2(id(), name.c_str(), native(dtype), space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
                  path_, "create dataset " + name));
}

void File::append_rows(const std::string& name, int64_t count, const void* data) {
  if (count == 0) return;
  Handle ds(check(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), path_, "open dataset " + name));
  hsize_t old_size;
  {
    Handle space(check(H5Dget_space(ds.get()), path_, "get dataspace of " + name));
    H5Sget_simple_extent_dims(space.get(), &old_size, nullptr);
  }
  hsize_t new_size = old_size + static_cast<hsize_t>(count);
  check_status(H5Dset_extent(ds.get(), &new_size), path_, "extend " + name);
  Handle type(H5Dget_type(ds.get()));
  Handle file_space = row_space(ds.get(), static_cast<int64_t>(old_size), count, path_, name);
  Handle mem_space = memory_space(count, {});
  Handle mem_type(H5Tget_native_type(type.get(), H5T_DIR_DEFAULT));
  check_status(H5Dwrite(ds.get(), mem_type.get(), mem_space.get(), file_space.get(), H5P_DEFAULT, data), path_,
               "append to " + name);
}

void File::write_rows(const std::string& name, int64_t start, int64_t count, const void* data) {
  if (count == 0) return;
  Handle ds(check(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), path_, "open dataset " + name));
  Handle type(H5Dget_type(ds.get()));
  Handle file_space = row_space(ds.get(), start, count, path_, name);
  Handle mem_space = memory_space(count, tail_dims(ds.get()));
  Handle mem_type(H5Tget_native_type(type.get(), H5T_DIR_DEFAULT));
  check_status(H5Dwrite(ds.get(), mem_type.get(), mem_space.get(), file_space.get(), H5P_DEFAULT, data), path_,
               "write rows of " + name);
}

std::vector<int64_t> File::dims(const std::string& name) const {
  Handle ds(check(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), path_, "open dataset " + name));
  Handle space(check(H5Dget_space(ds.get()), path_, "get dataspace of " + name));
  int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) throw Error("cannot read the shape of " + name, path_);
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return {dims.begin(), dims.end()};
}

DType File::dtype(const std::string& name) const {
  Handle ds(check(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), path_, "open dataset " + name));
  Handle type(check(H5Dget_type(ds.get()), path_, "get type of " + name));
  H5T_class_t cls = H5Tget_class(type.get());
  size_t size = H5Tget_size(type.get());
  if (cls == H5T_FLOAT) return size == 4 ? DType::kFloat32 : DType::kFloat64;
  if (cls == H5T_INTEGER) {
    if (size == 1) return DType::kUInt8;
    if (size == 4) return DType::kInt32;
    if (size == 8) return DType::kInt64;
  }
  throw Error("dataset " + name + " has an element type strike does not read", path_);
}

void File::read(const std::string& name, DType dtype, void* out) const {
  Handle ds(check(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), path_, "open dataset " + name));
  check_status(H5Dread(ds.get(), native(dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT, out), path_, "read " + name);
}

void File::read_rows(const std::string& name, DType dtype, int64_t start, int64_t count, void* out) const {
  if (count == 0) return;
  Handle ds(check(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), path_, "open dataset " + name));
  Handle file_space = row_space(ds.get(), start, count, path_, name);
  Handle mem_space = memory_space(count, tail_dims(ds.get()));
  check_status(H5Dread(ds.get(), native(dtype), mem_space.get(), file_space.get(), H5P_DEFAULT, out), path_,
               "read rows of " + name);
}

void File::write_text(const std::string& name, const std::string& text) {
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), text.empty() ? 1 : text.size());
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  Handle space(H5Screate(H5S_SCALAR));
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  Handle dcpl = untimed(H5P_DATASET_CREATE);
  Handle ds(check(H5Dcreate2(id(), name.c_str(), type.get(), space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT), path_,
                  "create text " + name));
  std::string padded = text.empty() ? std::string(1, '\0') : text;
  check_status(H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, padded.data()), path_, "write " + name);
}

std::string File::read_text(const std::string& name) const {
  Handle ds(check(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), path_, "open text " + name));
  Handle type(check(H5Dget_type(ds.get()), path_, "read type of " + name));
  if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) > 0) {
    throw Error("dataset " + name + " is not a fixed-length string", path_);
  }
  std::string value(H5Tget_size(type.get()), '\0');
  check_status(H5Dread(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, value.data()), path_, "read " + name);
  while (!value.empty() && value.back() == '\0') value.pop_back();
  return value;
}

namespace {
Handle open_object(hid_t file, const std::string& object, const std::string& path) {
  return Handle(check(H5Oopen(file, object.empty() ? "/" : object.c_str(), H5P_DEFAULT), path, "open " + object));
}
}  // namespace

void File::set_attr(const std::string& object, const std::string& key, const std::string& value) {
  Handle obj = open_object(id(), object, path_);
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), value.empty() ? 1 : value.size());
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  Handle space(H5Screate(H5S_SCALAR));
  if (H5Aexists(obj.get(), key.c_str()) > 0) H5Adelete(obj.get(), key.c_str());
  Handle attr(check(H5Acreate2(obj.get(), key.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), path_,
                    "create attribute " + key));
  std::string padded = value.empty() ? std::string(1, '\0') : value;
  check_status(H5Awrite(attr.get(), type.get(), padded.data()), path_, "write attribute " + key);
}

void File::set_attr(const std::string& object, const std::string& key, int64_t value) {
  Handle obj = open_object(id(), object, path_);
  Handle space(H5Screate(H5S_SCALAR));
  if (H5Aexists(obj.get(), key.c_str()) > 0) H5Adelete(obj.get(), key.c_str());
  Handle attr(check(H5Acreate2(obj.get(), key.c_str(), H5T_NATIVE_INT64, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                    path_, "create attribute " + key));
  check_status(H5Awrite(attr.get(), H5T_NATIVE_INT64, &value), path_, "write attribute " + key);
}

bool File::has_attr(const std::string& object, const std::string& key) const {
  if (!exists(object)) return false;
  Handle obj = open_object(id(), object, path_);
  return H5Aexists(obj.get(), key.c_str()) > 0;
}

std::string File::attr_string(const std::string& object, const std::string& key) const {
  Handle obj = open_object(id(), object, path_);
  Handle attr(check(H5Aopen(obj.get(), key.c_str(), H5P_DEFAULT), path_, "open attribute " + key));
  Handle type(check(H5Aget_type(attr.get()), path_, "read attribute type " + key));
  if (H5Tget_class(type.get()) != H5T_STRING) throw Error("attribute " + key + " is not a string", path_);
  if (H5Tis_variable_str(type.get()) > 0) {
    char* buffer = nullptr;
    Handle mem(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem.get(), H5T_VARIABLE);
    check_status(H5Aread(attr.get(), mem.get(), &buffer), path_, "read attribute " + key);
    std::string value = buffer ? buffer : "";
    H5free_memory(buffer);
    return value;
  }
  size_t size = H5Tget_size(type.get());
  std::string value(size, '\0');
  check_status(H5Aread(attr.get(), type.get(), value.data()), path_, "read attribute " + key);
  while (!value.empty() && value.back() == '\0') value.pop_back();
  return value;
}

int64_t File::attr_int(const std::string& object, const std::string& key) const {
  Handle obj = open_object(id(), object, path_);
  Handle attr(check(H5Aopen(obj.get(), key.c_str(), H5P_DEFAULT), path_, "open attribute " + key));
  int64_t value = 0;
  check_status(H5Aread(attr.get(), H5T_NATIVE_INT64, &value), path_, "read attribute " + key);
  return value;
}

}  // namespace strike::h5
