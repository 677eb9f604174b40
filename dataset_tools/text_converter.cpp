// The text conversion pipeline: stratified split, tokenizer sample's word counts and training, encoding to a staging file, shards.
#include "dataset_tools/text_converter.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/checksum.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/rng.h"
#include "core/shard.h"
#include "dataset_tools/output_dir.h"
#include "dataset_tools/parallel.h"
#include "dataset_tools/split.h"
#include "dataset_tools/tokenizer.h"
#include "dataset_tools/word_counts.h"

namespace strike::data {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kSampleStream = 0x73616d706c65;  // "sample": which train documents train the tokenizer
constexpr int64_t kBatchBytes = int64_t{16} << 20;  // raw text read and encoded at once
constexpr int64_t kShardChunkTokens = int64_t{1} << 20;  // token ids gathered per shard append (4 MiB)

// Removes the staging file however the conversion ends.
struct StagingFile {
  std::string path;
  ~StagingFile() { std::remove(path.c_str()); }
};

// The words the tokenizer trains on: those seen at least --tokenizer-min-count times. A word seen once
// in a sample of megabytes (a base64 line, a message id, a URL) cannot earn a piece of its own, yet such
// words make up most of the distinct words and most of the trainer's time. When the rare words hold half
// the sample's text (a language written without spaces, where a "word" is a whole line), every word is kept.
struct TrainingWords {
  std::vector<WordCount> table;
  int64_t min_count = 1;
};
TrainingWords choose_training_words(const WordCounts& counts, int64_t min_count) {
  if (min_count > 1 && 2 * counts.bytes(min_count) < counts.bytes()) {
    spdlog::info("words seen fewer than {} times hold over half of the tokenizer sample's text: training on every word",
                 min_count);
    min_count = 1;
  }
  return {counts.at_least(min_count), min_count};
}

// A seeded random subset of the train documents up to `cap` raw bytes (at least one document), so
// the sample mixes every class whatever order the source lists them in.
std::vector<char> choose_sample(const TextSource& source, const std::vector<int64_t>& train, const ConvertOptions& o) {
  std::vector<int64_t> order = train;
  core::Rng rng(core::derive_seed({o.seed, kSampleStream}));
  core::shuffle(order, rng);
  std::vector<char> chosen(source.labels().size(), 0);
  int64_t bytes = 0;
  for (int64_t i : order) {
    if (bytes >= o.tokenizer_sample) break;
    chosen[static_cast<size_t>(i)] = 1;
    bytes += source.sizes()[static_cast<size_t>(i)];
  }
  return chosen;
}

// What the tokenizer was trained on, for the manifest and the log.
struct TokenizerSample {
  int64_t bytes = 0, documents = 0;      // the sample
  int64_t words = 0, training_words = 0;  // its distinct words, and those the tokenizer trained on
  int64_t min_count = 1;                  // the --tokenizer-min-count applied
  double train_seconds = 0;
};

// Counts the words of a seeded sample of the train documents and trains the tokenizer on them.
std::string train_on_sample(const TextSource& source, const std::vector<int64_t>& train, const ConvertOptions& o,
                            TokenizerSample& sample) {
  WordCounts counts;
  const std::vector<char> chosen = choose_sample(source, train, o);
  source.read([&](int64_t i) { return chosen[static_cast<size_t>(i)] != 0; }, kBatchBytes, [&](TextBatch& batch) {
    counts.add(batch.text, decode_threads());
    for (const auto& text : batch.text) sample.bytes += static_cast<int64_t>(text.size());
    sample.documents += static_cast<int64_t>(batch.index.size());
    return true;
  });
  const auto start = std::chrono::steady_clock::now();
  const TrainingWords words = choose_training_words(counts, o.tokenizer_min_count);
  sample.words = counts.distinct();
  sample.training_words = static_cast<int64_t>(words.table.size());
  sample.min_count = words.min_count;
  counts = WordCounts();  // the table holds what training needs
  spdlog::info("training a {} tokenizer (vocabulary {}) on the {} words seen at least {} time(s) among {} distinct "
               "words in {} bytes of {} train documents",
               o.tokenizer, o.vocab_size, sample.training_words, sample.min_count, sample.words, sample.bytes,
               sample.documents);
  std::string model = train_tokenizer(words.table, {o.tokenizer, o.vocab_size, decode_threads()});
  sample.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return model;
}

struct EncodeStats {
  int64_t tokens = 0, truncated = 0, repaired = 0;
  std::string repaired_example;
};

// Encodes every document in source order into `staging` (int32 ids, back to back); `start[i]` is
// document i's first id there, start[n] the total.
EncodeStats encode_all(const TextSource& source, const Tokenizer& tokenizer, const ConvertOptions& o,
                       const std::string& staging, std::vector<int64_t>& start) {
  EncodeStats stats;
  const size_t n = source.labels().size();
  start.assign(n + 1, 0);
  std::ofstream out(staging, std::ios::binary | std::ios::trunc);
  if (!out) throw Error("cannot write the staging file", staging, "check that the output directory is writable");
  std::vector<std::vector<int32_t>> ids;
  source.read([](int64_t) { return true; }, kBatchBytes, [&](TextBatch& batch) {
    const int64_t count = static_cast<int64_t>(batch.index.size());
    ids.resize(static_cast<size_t>(count));
    // One more than kept, to tell a truncated document from one of exactly max_tokens.
    parallel_for(count, decode_threads(), [&](int64_t k) { ids[k] = tokenizer.encode(batch.text[k], o.max_tokens + 1); });
    for (int64_t k = 0; k < count; ++k) {
      auto& doc = ids[k];
      if (static_cast<int64_t>(doc.size()) > o.max_tokens) {
        doc.resize(static_cast<size_t>(o.max_tokens));
        ++stats.truncated;
      }
      if (batch.repaired[k] && !stats.repaired++) stats.repaired_example = source.describe(batch.index[k]);
      const size_t i = static_cast<size_t>(batch.index[k]);
      start[i + 1] = start[i] + static_cast<int64_t>(doc.size());
      out.write(reinterpret_cast<const char*>(doc.data()), static_cast<std::streamsize>(doc.size() * sizeof(int32_t)));
    }
    ids.clear();  // not kept alive while the next batch's text is read
    return true;
  });
  out.close();
  if (!out) throw Error("cannot write the staging file", staging, "check the free space of the output directory");
  stats.tokens = start[n];
  return stats;
}

}  // namespace

core::Manifest write_text_dataset(const TextSource& source, const ConvertOptions& o, std::vector<std::string>& written) {
  const std::vector<int64_t>& labels = source.labels();
  const int64_t classes = static_cast<int64_t>(source.class_names().size());
  SplitIndices split = stratified_split(labels, classes, o.val_fraction, o.test_fraction, o.seed);
  if (split.train.empty()) {
    throw Error("no training documents remain after carving val/test", o.input, "lower --val-fraction/--test-fraction");
  }

  // 1. The tokenizer, from the words of a bounded sample of train documents only.
  TokenizerSample sample;
  const std::string model = train_on_sample(source, split.train, o, sample);
  const std::string model_path = (fs::path(o.output) / kTokenizerFile).string();
  written.push_back(model_path);
  core::write_file_atomically(model_path, model);
  const Tokenizer tokenizer = Tokenizer::from_model(model);
  spdlog::info("tokenizer: {} pieces, trained in {:.2f} s", tokenizer.size(), sample.train_seconds);

  // 2. Every document encoded once, in source order, into a staging file the shards then gather from.
  StagingFile staging{(fs::path(o.output) / ".tokens.staging").string()};
  std::vector<int64_t> start;
  const EncodeStats stats = encode_all(source, tokenizer, o, staging.path, start);

  core::Manifest m;
  m.task = "text_classification";
  m.source = source.kind();
  m.fields = {{"tokens", "int32", {-1}}, {"label", "int64", {}}};
  m.class_names = source.class_names();
  const SkippedDocuments& skipped = source.skipped();
  const int64_t n = static_cast<int64_t>(labels.size());
  m.extra = {{"input", fs::absolute(o.input).string()},
             {"seed", o.seed},
             {"shards", o.shards},
             {"val_fraction", o.val_fraction},
             {"test_fraction", o.test_fraction},
             {"max_tokens", o.max_tokens},
             {"tokenizer",
              {{"file", kTokenizerFile},
               {"checksum", core::file_checksum(model_path)},
               {"type", o.tokenizer},
               {"vocab_size", o.vocab_size},
               {"pieces", tokenizer.size()},
               {"pad_id", kPadId},
               {"unk_id", kUnkId},
               {"sample_limit_bytes", o.tokenizer_sample},
               {"sample_bytes", sample.bytes},
               {"sample_documents", sample.documents},
               {"sample_words", sample.words},
               {"min_count", sample.min_count},
               {"training_words", sample.training_words}}},
             {"documents",
              {{"usable", n},
               {"empty", skipped.empty},
               {"unreadable", skipped.unreadable},
               {"repaired_encoding", stats.repaired},
               {"truncated", stats.truncated},
               {"tokens", stats.tokens}}},
             {"class_counts", nlohmann::json::object()}};
  if (o.source == "text_csv") {
    m.extra["text_column"] = o.text_column;
    m.extra["target"] = o.target;
  }
  if (!o.label_map.empty()) m.extra["label_map"] = o.label_map;

  if (skipped.empty) spdlog::warn("skipped {} empty document(s), e.g. {}", skipped.empty, skipped.empty_example);
  if (skipped.unreadable) {
    spdlog::warn("skipped {} unreadable file(s), e.g. {}", skipped.unreadable, skipped.unreadable_example);
  }
  if (stats.repaired) {
    spdlog::info("{} document(s) were not valid UTF-8; their stray bytes were read as Latin-1 (e.g. {})", stats.repaired,
                 stats.repaired_example);
  }
  spdlog::info("{} documents, {} tokens ({:.1f} per document), {} truncated to --max-tokens {}", n, stats.tokens,
               static_cast<double>(stats.tokens) / n, stats.truncated, o.max_tokens);

  // 3. Shards: each split in its seeded order, ids gathered from the staging file in bounded chunks.
  std::ifstream in(staging.path, std::ios::binary);
  const std::vector<std::pair<std::string, std::vector<int64_t>>> splits = {
      {"train", split.train}, {"val", split.val}, {"test", split.test}};
  const int64_t train_samples = static_cast<int64_t>(split.train.size());
  std::vector<int32_t> values;
  std::vector<int64_t> lengths, chunk_labels;
  for (size_t s = 0; s < splits.size(); ++s) {
    std::vector<int64_t> order = splits[s].second;
    if (order.empty()) continue;
    shuffle_split(order, o.seed, s);
    const std::string& name = splits[s].first;
    const int64_t rows = static_cast<int64_t>(order.size());
    const int64_t shards = split_shard_count(o, rows, train_samples, s == 0);
    core::SplitInfo info{name, rows, {}};
    std::vector<int64_t> counts(static_cast<size_t>(classes), 0);
    for (int64_t k = 0; k < shards; ++k) {
      const int64_t begin = k * rows / shards, end = (k + 1) * rows / shards;
      const std::string path = (fs::path(o.output) / shard_file_name(name, k, shards)).string();
      written.push_back(path);
      core::ShardWriter writer(path, m.fields, end - begin);
      for (int64_t i = begin; i < end;) {
        values.clear();
        lengths.clear();
        chunk_labels.clear();
        for (; i < end && (lengths.empty() || static_cast<int64_t>(values.size()) < kShardChunkTokens); ++i) {
          const size_t doc = static_cast<size_t>(order[i]);
          const int64_t length = start[doc + 1] - start[doc];
          const size_t at = values.size();
          values.resize(at + static_cast<size_t>(length));
          in.seekg(start[doc] * static_cast<int64_t>(sizeof(int32_t)));
          in.read(reinterpret_cast<char*>(values.data() + at), length * static_cast<int64_t>(sizeof(int32_t)));
          if (!in) throw Error("cannot read back the staging file", staging.path, "check the output directory's disk");
          lengths.push_back(length);
          chunk_labels.push_back(labels[doc]);
          ++counts[static_cast<size_t>(labels[doc])];
        }
        const int64_t count = static_cast<int64_t>(lengths.size());
        writer.append_ragged("tokens", values.data(), lengths.data(), count);
        writer.append("label", chunk_labels.data(), count);
      }
      info.shards.push_back(writer.finish());
    }
    spdlog::info("{}: {} documents in {} shard(s)", name, rows, shards);
    m.splits.push_back(info);
    m.extra["class_counts"][name] = counts;
  }
  return m;
}

}  // namespace strike::data
