// The conversion pipeline: open source, split, shuffle, then write each shard in bounded chunks.
#include "dataset_tools/converter.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "core/shard.h"
#include "dataset_tools/csv_source.h"
#include "dataset_tools/output_dir.h"
#include "dataset_tools/parallel.h"
#include "dataset_tools/source.h"
#include "dataset_tools/split.h"
#include "dataset_tools/statistics.h"
#include "dataset_tools/text_converter.h"
#include "dataset_tools/text_source.h"

namespace strike::data {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kChunkBytes = int64_t{64} << 20;  // decoded images held in memory at once

struct SampleRef {
  Part part;
  int64_t index;
};

// One output split: which source samples, in the order they are written.
struct OutputSplit {
  std::string name;
  std::vector<SampleRef> samples;
};

struct Geometry {
  int64_t channels, height, width;
  bool resize;
  int64_t sample_bytes() const { return channels * height * width; }
};

std::vector<SampleRef> refs(Part part, const std::vector<int64_t>& indices) {
  std::vector<SampleRef> out;
  for (int64_t i : indices) out.push_back({part, i});
  return out;
}

std::vector<OutputSplit> plan_splits(const ImageSource& source, const ConvertOptions& options) {
  const bool carve_val = !source.has(Part::kVal), carve_test = !source.has(Part::kTest);
  const auto& train_labels = source.labels(Part::kTrain);
  SplitIndices carved = stratified_split(train_labels, static_cast<int64_t>(source.class_names().size()),
                                         carve_val ? options.val_fraction : 0.0,
                                         carve_test ? options.test_fraction : 0.0, options.seed);
  std::vector<OutputSplit> splits{{"train", refs(Part::kTrain, carved.train)},
                                  {"val", carve_val ? refs(Part::kTrain, carved.val) : std::vector<SampleRef>{}},
                                  {"test", carve_test ? refs(Part::kTrain, carved.test) : std::vector<SampleRef>{}}};
  for (Part part : {Part::kVal, Part::kTest}) {
    if (!source.has(part)) continue;
    auto& split = splits[static_cast<size_t>(part)];
    for (size_t i = 0; i < source.labels(part).size(); ++i) split.samples.push_back({part, static_cast<int64_t>(i)});
  }
  // Shuffled so every shard mixes all classes: readers can then take whole shards in any order.
  for (size_t s = 0; s < splits.size(); ++s) shuffle_split(splits[s].samples, options.seed, s);
  if (splits[0].samples.empty()) {
    throw Error("no training samples remain after carving val/test", options.input, "lower --val-fraction/--test-fraction");
  }
  return splits;
}

// Converts one decoded image to the dataset's geometry, or says which file does not fit it.
void prepare(const core::Image& decoded, const Geometry& g, const std::string& what, uint8_t* out) {
  core::Image image = core::to_channels(decoded, g.channels);
  if (g.resize) {
    image = core::resize_bilinear(image, g.height, g.width);
  } else if (image.height != g.height || image.width != g.width) {
    throw Error("image is " + std::to_string(image.height) + "x" + std::to_string(image.width) + ", the dataset's " +
                    std::to_string(g.height) + "x" + std::to_string(g.width),
                what, "pass --image-size N to resize every image to NxN");
  }
  std::copy(image.pixels.begin(), image.pixels.end(), out);
}

class SplitWriter {
 public:
  SplitWriter(const ImageSource& source, const Geometry& geometry, std::vector<core::FieldSpec> fields,
              std::string output, std::vector<std::string>& written)
      : source_(source), geometry_(geometry), fields_(std::move(fields)), output_(std::move(output)), written_(written) {}

  core::SplitInfo write(const OutputSplit& split, int64_t shards, ChannelStats* stats) {
    core::SplitInfo info{split.name, static_cast<int64_t>(split.samples.size()), {}};
    const int64_t n = info.samples;
    for (int64_t s = 0; s < shards; ++s) {
      const int64_t begin = s * n / shards, end = (s + 1) * n / shards;
      std::string path = (fs::path(output_) / shard_file_name(split.name, s, shards)).string();
      written_.push_back(path);
      core::ShardWriter writer(path, fields_, end - begin);
      const int64_t chunk = std::max<int64_t>(1, kChunkBytes / geometry_.sample_bytes());
      for (int64_t start = begin; start < end; start += chunk) {
        const int64_t count = std::min(chunk, end - start);
        write_chunk(writer, split.samples.data() + start, count, stats);
      }
      info.shards.push_back(writer.finish());
    }
    spdlog::info("{}: {} samples in {} shard(s)", split.name, n, shards);
    return info;
  }

 private:
  void write_chunk(core::ShardWriter& writer, const SampleRef* samples, int64_t count, ChannelStats* stats) {
    const int64_t bytes = geometry_.sample_bytes();
    pixels_.resize(static_cast<size_t>(count * bytes));
    labels_.resize(static_cast<size_t>(count));
    parallel_for(count, source_.in_memory() ? 1 : decode_threads(), [&](int64_t i) {
      const SampleRef& ref = samples[i];
      prepare(source_.load(ref.part, ref.index), geometry_, source_.describe(ref.part, ref.index),
              pixels_.data() + i * bytes);
      labels_[i] = source_.labels(ref.part)[ref.index];
    });
    if (stats) stats->add(pixels_.data(), count, geometry_.height * geometry_.width);
    writer.append("image", pixels_.data(), count);
    writer.append("label", labels_.data(), count);
  }

  const ImageSource& source_;
  Geometry geometry_;
  std::vector<core::FieldSpec> fields_;
  std::string output_;
  std::vector<std::string>& written_;
  std::vector<uint8_t> pixels_;
  std::vector<int64_t> labels_;
};

std::vector<int64_t> class_counts(const ImageSource& source, const OutputSplit& split) {
  std::vector<int64_t> counts(source.class_names().size(), 0);
  for (const auto& ref : split.samples) ++counts[source.labels(ref.part)[ref.index]];
  return counts;
}

core::Manifest convert_source(const ImageSource& source, const ConvertOptions& options, std::vector<std::string>& written) {
  Geometry g{options.channels ? options.channels : source.native_channels(), options.image_size, options.image_size,
             options.image_size > 0};
  if (!g.resize) std::tie(g.height, g.width) = source.uniform_size();
  core::Manifest m;
  m.task = "image_classification";
  m.source = source.kind();
  m.fields = {{"image", "uint8", {g.channels, g.height, g.width}}, {"label", "int64", {}}};
  m.class_names = source.class_names();
  m.extra = {{"input", fs::absolute(options.input).string()}, {"seed", options.seed},
             {"shards", options.shards},                      {"val_fraction", options.val_fraction},
             {"test_fraction", options.test_fraction},        {"image_size", options.image_size},
             {"channels", g.channels},                        {"class_counts", nlohmann::json::object()}};

  std::vector<OutputSplit> splits = plan_splits(source, options);
  const int64_t train_samples = static_cast<int64_t>(splits[0].samples.size());
  SplitWriter writer(source, g, m.fields, options.output, written);
  ChannelStats stats(g.channels);
  for (const auto& split : splits) {
    if (split.samples.empty()) continue;
    const bool train = split.name == "train";
    int64_t shards = split_shard_count(options, static_cast<int64_t>(split.samples.size()), train_samples, train);
    m.splits.push_back(writer.write(split, shards, train ? &stats : nullptr));
    m.extra["class_counts"][split.name] = class_counts(source, split);
  }
  m.mean = stats.mean();
  m.std = stats.std();
  return m;
}

}  // namespace

int64_t split_shard_count(const ConvertOptions& options, int64_t samples, int64_t train_samples, bool train) {
  if (train) return std::min(options.shards, samples);
  int64_t proportional = std::llround(static_cast<double>(options.shards) * samples / train_samples);
  return std::max<int64_t>(1, std::min(proportional, samples));
}

void validate(const ConvertOptions& o) {
  require(o.source == "auto" || o.source == "idx" || o.source == "image_folder" || o.source == "csv" ||
              is_text_source(o.source),
          "--source must be auto, idx, image_folder, csv, text_folder or text_csv, not '" + o.source + "'");
  require(!o.input.empty(), "no input given", "pass --input DIR (or --input FILE.csv)");
  require(!o.output.empty(), "no output directory given", "pass --output DIR");
  require(o.shards >= 1 && o.shards <= 99999, "--shards must be between 1 and 99999, not " + std::to_string(o.shards));
  require(o.val_fraction >= 0 && o.val_fraction < 1, "--val-fraction must be in [0, 1), not " + std::to_string(o.val_fraction));
  require(o.test_fraction >= 0 && o.test_fraction < 1,
          "--test-fraction must be in [0, 1), not " + std::to_string(o.test_fraction));
  require(o.val_fraction + o.test_fraction < 1, "--val-fraction plus --test-fraction must be below 1",
          "leave some samples for training");
  require(o.image_size >= 0 && o.image_size <= 16384,
          "--image-size must be 0 (keep) or a size up to 16384, not " + std::to_string(o.image_size));
  require(o.channels == 0 || o.channels == 1 || o.channels == 3,
          "--channels must be 0 (as stored), 1 or 3, not " + std::to_string(o.channels));
  require(o.source != "csv" || !o.target.empty(), "no target column given for CSV input",
          "pass --target COLUMN naming the class column");
  require(o.max_categories >= 1, "--max-categories must be at least 1, not " + std::to_string(o.max_categories));
  require(o.source != "text_csv" || !o.target.empty(), "no label column given for text_csv input",
          "pass --target COLUMN naming the label column");
  require(o.tokenizer == "unigram" || o.tokenizer == "bpe", "--tokenizer must be unigram or bpe, not '" + o.tokenizer + "'");
  require(o.vocab_size >= 8 && o.vocab_size <= 1000000,
          "--vocab-size must be between 8 and 1000000, not " + std::to_string(o.vocab_size));
  require(o.max_tokens >= 1, "--max-tokens must be at least 1, not " + std::to_string(o.max_tokens));
  require(o.tokenizer_sample >= 1, "--tokenizer-sample must be at least 1 byte, not " + std::to_string(o.tokenizer_sample));
  require(o.tokenizer_min_count >= 1,
          "--tokenizer-min-count must be at least 1, not " + std::to_string(o.tokenizer_min_count));
}

core::Manifest convert(const ConvertOptions& options) {
  validate(options);
  check_output_dir(options.output, options.input, options.overwrite);  // fail fast, before a long scan
  // Everything that can be wrong with the input is found before the output directory is touched.
  const bool csv = is_csv_input(options.source, options.input);
  std::unique_ptr<ImageSource> source;
  std::unique_ptr<TextSource> text;
  TabularPlan table;
  if (is_text_source(options.source)) {
    text = open_text_source(options);
  } else if (csv) {
    table = read_tabular_csv(options);
  } else {
    source = open_source(options.source, options.input);
  }
  prepare_output_dir(options.output, options.input, options.overwrite);
  std::vector<std::string> written;
  try {
    core::Manifest manifest = text  ? write_text_dataset(*text, options, written)
                              : csv ? write_tabular(table, options, written)
                                    : convert_source(*source, options, written);
    manifest.save(options.output);
    return manifest;
  } catch (...) {
    for (const auto& path : written) std::remove(path.c_str());
    throw;
  }
}

}  // namespace strike::data
