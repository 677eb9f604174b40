// OrderedStaging's buckets: one region of the file each, filled through per-bucket buffers.
#include "dataset_tools/ordered_staging.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>

#include "core/error.h"

namespace strike::data {

namespace {

constexpr int64_t kReadBytes = int64_t{1} << 20;  // a region is read back in pieces of this size

}  // namespace

OrderedStaging::OrderedStaging(std::string path, int64_t record_bytes, int64_t records, int64_t chunk_bytes)
    : path_(std::move(path)),
      record_bytes_(record_bytes),
      entry_bytes_(static_cast<int64_t>(sizeof(uint32_t)) + record_bytes),
      records_(records) {
  // A record's place in its bucket is stored in 32 bits.
  per_bucket_ = std::clamp<int64_t>(chunk_bytes / std::max<int64_t>(1, record_bytes), 1,
                                    std::numeric_limits<uint32_t>::max());
  buckets_ = (records + per_bucket_ - 1) / per_bucket_;
  buffer_entries_ = std::clamp<int64_t>(chunk_bytes / 4 / std::max<int64_t>(1, buckets_) / entry_bytes_, 1, per_bucket_);
  read_entries_ = std::max<int64_t>(1, kReadBytes / entry_bytes_);
  buffers_.resize(static_cast<size_t>(buckets_));
  buffered_.assign(static_cast<size_t>(buckets_), 0);
  stored_.assign(static_cast<size_t>(buckets_), 0);
  file_.open(path_, std::ios::in | std::ios::out | std::ios::binary | std::ios::trunc);
  if (!file_) throw Error("cannot write the staging file", path_, "check that its directory is writable");
}

OrderedStaging::~OrderedStaging() {
  file_.close();
  std::remove(path_.c_str());
}

int64_t OrderedStaging::bucket_records(int64_t bucket) const {
  return std::min(per_bucket_, records_ - bucket * per_bucket_);
}

void OrderedStaging::put(int64_t position, const void* record) {
  if (position < 0 || position >= records_) {
    throw Error("staging position " + std::to_string(position) + " is outside [0, " + std::to_string(records_) + ")",
                path_, "this is a bug in the converter");
  }
  const int64_t bucket = position / per_bucket_;
  const uint32_t slot = static_cast<uint32_t>(position - bucket * per_bucket_);
  std::vector<char>& buffer = buffers_[static_cast<size_t>(bucket)];
  int64_t& buffered = buffered_[static_cast<size_t>(bucket)];
  if (buffer.empty()) buffer.resize(static_cast<size_t>(buffer_entries_ * entry_bytes_));
  char* entry = buffer.data() + buffered * entry_bytes_;
  std::memcpy(entry, &slot, sizeof slot);
  if (record_bytes_ > 0) std::memcpy(entry + sizeof slot, record, static_cast<size_t>(record_bytes_));
  if (++buffered == buffer_entries_) flush(bucket);
}

void OrderedStaging::flush(int64_t bucket) {
  const std::vector<char>& buffer = buffers_[static_cast<size_t>(bucket)];
  int64_t& entries = buffered_[static_cast<size_t>(bucket)];
  if (entries == 0) return;
  int64_t& stored = stored_[static_cast<size_t>(bucket)];
  if (stored + entries > bucket_records(bucket)) {
    throw Error("staging bucket " + std::to_string(bucket) + " got more records than it has positions", path_,
                "this is a bug in the converter");
  }
  file_.seekp((bucket * per_bucket_ + stored) * entry_bytes_);
  file_.write(buffer.data(), static_cast<std::streamsize>(entries * entry_bytes_));
  if (!file_) throw Error("cannot write the staging file", path_, "check the free space of its directory");
  stored += entries;
  entries = 0;
}

void OrderedStaging::finish_writing() {
  for (int64_t b = 0; b < buckets_; ++b) {
    flush(b);
    std::vector<char>().swap(buffers_[static_cast<size_t>(b)]);
    if (stored_[static_cast<size_t>(b)] != bucket_records(b)) {
      throw Error("staging bucket " + std::to_string(b) + " got " + std::to_string(stored_[static_cast<size_t>(b)]) +
                      " of its " + std::to_string(bucket_records(b)) + " records",
                  path_, "this is a bug in the converter");
    }
  }
  file_.flush();
  if (!file_) throw Error("cannot write the staging file", path_, "check the free space of its directory");
}

void OrderedStaging::read_entries(int64_t bucket, int64_t first, int64_t count) {
  raw_.resize(static_cast<size_t>(count * entry_bytes_));
  file_.seekg((bucket * per_bucket_ + first) * entry_bytes_);
  file_.read(raw_.data(), static_cast<std::streamsize>(raw_.size()));
  if (!file_) throw Error("cannot read back the staging file", path_, "check the disk of its directory");
}

template <typename OnEntry>
void OrderedStaging::for_each_entry(int64_t bucket, OnEntry&& on_entry) {
  const int64_t n = bucket_records(bucket);
  for (int64_t first = 0; first < n; first += read_entries_) {
    const int64_t count = std::min(read_entries_, n - first);
    read_entries(bucket, first, count);
    for (int64_t e = 0; e < count; ++e) {
      const char* entry = raw_.data() + e * entry_bytes_;
      uint32_t slot;
      std::memcpy(&slot, entry, sizeof slot);
      on_entry(slot, entry + sizeof slot);
    }
  }
}

void OrderedStaging::load(int64_t bucket) {
  const int64_t n = bucket_records(bucket);
  ordered_.resize(static_cast<size_t>(n * record_bytes_));
  loaded_ = bucket;
  if (record_bytes_ == 0) return;
  for_each_entry(bucket, [&](uint32_t slot, const char* record) {
    std::memcpy(ordered_.data() + slot * record_bytes_, record, static_cast<size_t>(record_bytes_));
  });
}

void OrderedStaging::read(int64_t begin, int64_t count, void* out) {
  if (record_bytes_ == 0) return;
  char* to = static_cast<char*>(out);
  for (int64_t p = begin; p < begin + count;) {
    const int64_t bucket = p / per_bucket_;
    if (bucket != loaded_) load(bucket);
    const int64_t first = p - bucket * per_bucket_, n = std::min(bucket_records(bucket) - first, begin + count - p);
    std::memcpy(to, ordered_.data() + first * record_bytes_, static_cast<size_t>(n * record_bytes_));
    to += n * record_bytes_;
    p += n;
  }
}

}  // namespace strike::data
