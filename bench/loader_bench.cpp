// Loader throughput (samples/s, one loader thread) and peak RSS on Fashion-MNIST shards; it can
// write those shards itself from the IDX files so the benchmark needs no other tool.
#include <sys/resource.h>
#include <zlib.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/manifest.h"
#include "core/shard.h"
#include "worker/loader/loader.h"

namespace fs = std::filesystem;
using strike::worker::Batch;
using strike::worker::DataLoader;
using strike::worker::LoaderOptions;

namespace {

std::vector<uint8_t> read_idx_gz(const std::string& path, int dims, std::vector<int64_t>& shape) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw strike::Error("cannot open", path);
  auto read_be32 = [&]() {
    unsigned char b[4];
    if (gzread(f, b, 4) != 4) throw strike::Error("truncated IDX header", path);
    return (int64_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
  };
  read_be32();  // magic
  shape.clear();
  int64_t n = 1;
  for (int i = 0; i < dims; ++i) {
    shape.push_back(read_be32());
    n *= shape.back();
  }
  std::vector<uint8_t> data(static_cast<size_t>(n));
  for (size_t off = 0; off < data.size();) {
    int got = gzread(f, data.data() + off, static_cast<unsigned>(std::min<size_t>(data.size() - off, 1 << 30)));
    if (got <= 0) throw strike::Error("truncated IDX data", path);
    off += static_cast<size_t>(got);
  }
  gzclose(f);
  return data;
}

// Writes the train split, repeated `scale` times, as shards of at most 20000 rows.
void convert(const std::string& idx_dir, const std::string& out, int scale) {
  std::vector<int64_t> ishape, lshape;
  auto images = read_idx_gz(idx_dir + "/train-images-idx3-ubyte.gz", 3, ishape);
  auto labels8 = read_idx_gz(idx_dir + "/train-labels-idx1-ubyte.gz", 1, lshape);
  const int64_t n = ishape[0], pixels = ishape[1] * ishape[2];
  std::vector<int64_t> labels(labels8.begin(), labels8.end());
  double sum = 0, sq = 0;
  for (uint8_t v : images) {
    sum += v / 255.0;
    sq += (v / 255.0) * (v / 255.0);
  }
  const double mean = sum / images.size();

  strike::core::Manifest m;
  m.task = "image_classification";
  m.source = "idx";
  m.fields = {{"image", "uint8", {1, ishape[1], ishape[2]}}, {"label", "int64", {}}};
  m.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  m.mean = {mean};
  m.std = {std::sqrt(sq / images.size() - mean * mean)};
  strike::core::SplitInfo split{"train", 0, {}};
  fs::create_directories(out);
  const int64_t total = n * scale, per_shard = 20000;
  for (int64_t start = 0, s = 0; start < total; start += per_shard, ++s) {
    const int64_t rows = std::min(per_shard, total - start);
    char name[64];
    std::snprintf(name, sizeof name, "train-%05lld.h5", static_cast<long long>(s));
    strike::core::ShardWriter w((fs::path(out) / name).string(), m.fields, rows);
    for (int64_t r = start; r < start + rows;) {  // rows wrap around the source set when scaled
      const int64_t src = r % n, count = std::min(start + rows - r, n - src);
      w.append("image", images.data() + src * pixels, count);
      w.append("label", labels.data() + src, count);
      r += count;
    }
    split.shards.push_back(w.finish());
    split.samples += rows;
  }
  m.splits.push_back(split);
  m.save(out);
}

double run(const std::string& dir, bool normalize, int epochs, int64_t batch) {
  LoaderOptions o;
  o.batch_size = batch;
  o.normalize = normalize;
  DataLoader loader(dir, "train", 0, 1, o);
  Batch b;
  double checksum = 0;  // touches every batch so nothing is optimized away
  auto epoch = [&](int64_t e) {
    int64_t samples = 0;
    loader.start_epoch(e);
    while (loader.next(b)) {
      samples += b.size;
      if (b.size > 0) checksum += static_cast<double>(b.at("label").data_ptr<int64_t>()[0]);
    }
    return samples;
  };
  epoch(0);  // warm-up: page cache, allocator
  const auto t0 = std::chrono::steady_clock::now();
  int64_t samples = 0;
  for (int e = 1; e <= epochs; ++e) samples += epoch(e);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (checksum < 0) std::cout << "";
  return samples / secs;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data, idx = "/usr/share/datasets/fashion-mnist", mode = "throughput";
  int epochs = 5, scale = 1;
  int64_t batch = 256;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--data") data = v;
    else if (k == "--idx") idx = v;
    else if (k == "--epochs") epochs = std::stoi(v);
    else if (k == "--batch") batch = std::stoll(v);
    else if (k == "--scale") scale = std::stoi(v);
    else if (k == "--mode") mode = v;  // convert | throughput | rss | rss-open
  }
  if (data.empty()) {
    std::cerr << "usage: strike_loader_bench --data DIR [--mode convert|throughput|rss|rss-open] [--scale K] [--epochs N]\n";
    return 2;
  }
  try {
    if (!fs::exists(fs::path(data) / strike::core::kManifestFile)) convert(idx, data, scale);
    if (mode == "convert") return 0;
    torch::set_num_threads(1);  // the consumer does nothing parallel; keep the second core quiet
    if (mode == "rss" || mode == "rss-open") {  // rss-open: construction only (shard checks, no epoch)
      if (mode == "rss") {
        run(data, true, epochs, batch);
      } else {
        DataLoader loader(data, "train", 0, 1, LoaderOptions{});
      }
      rusage ru{};
      getrusage(RUSAGE_SELF, &ru);
      std::cout << "peak_rss_kib " << ru.ru_maxrss << "\n";
      return 0;
    }
    std::cout << "strike_normalized_samples_per_s " << run(data, true, epochs, batch) << "\n";
    std::cout << "strike_uint8_samples_per_s " << run(data, false, epochs, batch) << "\n";
  } catch (const strike::Error& e) {
    std::cerr << "error: " << e.what() << " [" << e.where() << "] " << e.hint() << "\n";
    return 1;
  }
  return 0;
}
