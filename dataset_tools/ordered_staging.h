// OrderedStaging: fixed-size records written in any order to known positions on disk, read back in position order.
#pragma once
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace strike::data {

// A gather by row index without random reads and without memory that grows with the rows: positions
// are cut into buckets of about `chunk_bytes` of records, each bucket a region of the file that its
// records are appended to (with their place in the bucket) through a small buffer; reading a bucket
// back puts its records in order. The file is removed when the staging is destroyed.
class OrderedStaging {
 public:
  // `records` positions of `record_bytes` bytes each (0 is allowed); memory: one bucket of records
  // read back, plus write buffers of at most a quarter of `chunk_bytes` in all.
  OrderedStaging(std::string path, int64_t record_bytes, int64_t records, int64_t chunk_bytes);
  ~OrderedStaging();
  OrderedStaging(const OrderedStaging&) = delete;
  OrderedStaging& operator=(const OrderedStaging&) = delete;

  // Stores the record of `position`; every position gets exactly one, then finish_writing() is called.
  void put(int64_t position, const void* record);
  // Flushes the buffers; throws Error unless every bucket got the records its positions call for.
  void finish_writing();
  // Copies the records of positions [begin, begin + count) to `out`, in position order.
  void read(int64_t begin, int64_t count, void* out);

  const std::string& path() const { return path_; }

 private:
  int64_t bucket_records(int64_t bucket) const;  // positions in `bucket`
  void flush(int64_t bucket);
  // Reads entries [first, first + count) of `bucket`'s region into raw_.
  void read_entries(int64_t bucket, int64_t first, int64_t count);
  // Calls on_entry(uint32_t slot, const char* record) for every entry of `bucket`, in stored order.
  template <typename OnEntry>
  void for_each_entry(int64_t bucket, OnEntry&& on_entry);
  void load(int64_t bucket);  // the bucket's records, in order, into ordered_

  std::string path_;
  int64_t record_bytes_, entry_bytes_, records_;
  int64_t per_bucket_, buckets_;
  int64_t buffer_entries_;  // entries per bucket buffered before a write
  int64_t read_entries_;    // entries per read of a region
  std::fstream file_;
  std::vector<std::vector<char>> buffers_;  // per bucket: room for buffer_entries_ entries, allocated on first use
  std::vector<int64_t> buffered_;           // per bucket: entries in its buffer
  std::vector<int64_t> stored_;             // per bucket: entries written to its region
  std::vector<char> raw_, ordered_;
  int64_t loaded_ = -1;                     // the bucket in ordered_
};

}  // namespace strike::data
