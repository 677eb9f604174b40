// The text conversion pipeline: tokenizer sample's word counts and training, encoding into per-split staging files, shards.
#include "dataset_tools/text_converter.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <utility>

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

// Picks each document's split as the documents stream past in source order, from the class sizes alone.
// Every pass builds its own from here, so that every pass sees the same split.
SplitSelector split_selector(const TextSource& source, const ConvertOptions& o) {
  return SplitSelector(source.class_sizes(), o.val_fraction, o.test_fraction, o.seed);
}

// Picks the tokenizer sample as the documents stream past: each train document joins with the same
// seeded chance, sized so the sample comes to about --tokenizer-sample bytes, until it holds that many.
// Nothing per document is kept, and the sample mixes every class whatever order the source lists them in.
class SampleChooser {
 public:
  SampleChooser(const TextSource& source, const ConvertOptions& o)
      : parts_(split_selector(source, o)),
        key_(core::derive_seed({o.seed, kSampleStream})),
        limit_(o.tokenizer_sample) {
    const double train_bytes = static_cast<double>(source.bytes()) * static_cast<double>(parts_.total(Part::kTrain)) /
                               static_cast<double>(source.documents());
    chance_ = std::min(1.0, static_cast<double>(limit_) / std::max(train_bytes, 1.0));
  }
  bool operator()(const DocumentRef& doc) {
    if (parts_.next(doc.label) != Part::kTrain || full()) return false;
    const bool last = ++train_seen_ == parts_.total(Part::kTrain);
    const uint64_t bits = core::mix64(key_ ^ core::mix64(static_cast<uint64_t>(doc.index)));
    const bool drawn = static_cast<double>(bits >> 11) * 0x1.0p-53 < chance_;  // a uniform draw in [0, 1)
    // With a chance of a few documents in all, none may be drawn: the last train document then joins,
    // so that the tokenizer always has text to learn from.
    if (!drawn && !(last && documents_ == 0)) return false;
    bytes_ += doc.bytes;
    ++documents_;
    return true;
  }
  bool full() const { return bytes_ >= limit_; }

 private:
  SplitSelector parts_;
  uint64_t key_;
  int64_t limit_, bytes_ = 0, documents_ = 0, train_seen_ = 0;
  double chance_ = 1;
};

// What the tokenizer was trained on, for the manifest and the log.
struct TokenizerSample {
  int64_t bytes = 0, documents = 0;      // the sample
  int64_t words = 0, training_words = 0;  // its distinct words, and those the tokenizer trained on
  int64_t min_count = 1;                  // the --tokenizer-min-count applied
  double train_seconds = 0;
};

// Counts the words of a seeded sample of the train documents and trains the tokenizer on them.
std::string train_on_sample(const TextSource& source, const ConvertOptions& o, TokenizerSample& sample) {
  WordCounts counts;
  SampleChooser choose(source, o);
  // Batches no larger than the sample, so that the one that fills it is handed over at once and the
  // rest of the input is not read.
  source.read(std::ref(choose), std::min(kBatchBytes, o.tokenizer_sample), [&](TextBatch& batch) {
    counts.add(batch.text, decode_threads());
    for (const auto& text : batch.text) sample.bytes += static_cast<int64_t>(text.size());
    sample.documents += static_cast<int64_t>(batch.index.size());
    return !choose.full();
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

// One split's documents, encoded in source order: their ids back to back in one file, and per document
// where its ids start, how many there are and its label in another. The shards then gather the
// documents in their shuffled order from these files, so no table per document is held in memory.
// Both files are removed however the conversion ends.
class StagedSplit {
 public:
  StagedSplit(const std::string& dir, const std::string& name)
      : ids_path_((fs::path(dir) / (".tokens." + name + ".staging")).string()),
        index_path_((fs::path(dir) / (".index." + name + ".staging")).string()) {
    ids_.open(ids_path_, std::ios::binary | std::ios::trunc);
    if (!ids_) throw Error("cannot write the staging file", ids_path_, "check that the output directory is writable");
    index_.open(index_path_, std::ios::binary | std::ios::trunc);
    if (!index_) {
      ids_.close();
      std::remove(ids_path_.c_str());
      throw Error("cannot write the staging file", index_path_, "check that the output directory is writable");
    }
  }
  ~StagedSplit() {
    ids_.close();
    index_.close();
    std::remove(ids_path_.c_str());
    std::remove(index_path_.c_str());
  }
  StagedSplit(const StagedSplit&) = delete;
  StagedSplit& operator=(const StagedSplit&) = delete;

  void append(const std::vector<int32_t>& ids, int64_t label) {
    const Record record{tokens_, static_cast<int64_t>(ids.size()), label};
    ids_.write(reinterpret_cast<const char*>(ids.data()), static_cast<std::streamsize>(ids.size() * sizeof(int32_t)));
    index_.write(reinterpret_cast<const char*>(&record), sizeof record);
    tokens_ += record.length;
    ++documents_;
  }
  // Ends the writing and opens the files for gather().
  void finish() {
    ids_.close();
    index_.close();
    constexpr const char* kHint = "check the free space of the output directory";
    if (!ids_) throw Error("cannot write the staging file", ids_path_, kHint);
    if (!index_) throw Error("cannot write the staging file", index_path_, kHint);
    ids_in_.open(ids_path_, std::ios::binary);
    index_in_.open(index_path_, std::ios::binary);
    if (!ids_in_) throw unreadable(ids_path_);
    if (!index_in_) throw unreadable(index_path_);
  }
  int64_t documents() const { return documents_; }
  // Appends document i's ids (i-th appended) to `values` and returns its label.
  int64_t gather(int64_t i, std::vector<int32_t>& values) {
    Record record{};
    index_in_.seekg(i * static_cast<int64_t>(sizeof record));
    index_in_.read(reinterpret_cast<char*>(&record), sizeof record);
    if (!index_in_ || record.first < 0 || record.length < 0 || record.first + record.length > tokens_) {
      throw unreadable(index_path_);
    }
    const size_t at = values.size();
    values.resize(at + static_cast<size_t>(record.length));
    ids_in_.seekg(record.first * static_cast<int64_t>(sizeof(int32_t)));
    ids_in_.read(reinterpret_cast<char*>(values.data() + at), record.length * static_cast<int64_t>(sizeof(int32_t)));
    if (!ids_in_) throw unreadable(ids_path_);
    return record.label;
  }

 private:
  static Error unreadable(const std::string& path) {
    return Error("cannot read back the staging file", path, "check the output directory's disk");
  }

  struct Record {
    int64_t first, length, label;
  };
  std::string ids_path_, index_path_;
  std::ofstream ids_, index_;
  std::ifstream ids_in_, index_in_;
  int64_t tokens_ = 0, documents_ = 0;
};

struct EncodeStats {
  int64_t tokens = 0, truncated = 0, repaired = 0;
  std::string repaired_example;
};

// Encodes every document, in source order, into its split's staging files; the split of each is
// picked as the documents stream past, from the class sizes alone.
EncodeStats encode_all(const TextSource& source, const Tokenizer& tokenizer, const ConvertOptions& o,
                       std::vector<std::unique_ptr<StagedSplit>>& staged) {
  EncodeStats stats;
  SplitSelector parts = split_selector(source, o);
  std::vector<std::vector<int32_t>> ids;
  source.read([](const DocumentRef&) { return true; }, kBatchBytes, [&](TextBatch& batch) {
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
      if (batch.repaired[k] && !stats.repaired++) stats.repaired_example = batch.where[k];
      const int64_t label = batch.label[k];
      staged[static_cast<size_t>(parts.next(label))]->append(doc, label);
      stats.tokens += static_cast<int64_t>(doc.size());
    }
    ids.clear();  // not kept alive while the next batch's text is read
    return true;
  });
  for (auto& split : staged) split->finish();
  return stats;
}

}  // namespace

core::Manifest write_text_dataset(const TextSource& source, const ConvertOptions& o, std::vector<std::string>& written) {
  const int64_t classes = static_cast<int64_t>(source.class_names().size());
  if (split_selector(source, o).total(Part::kTrain) == 0) {
    throw Error("no training documents remain after carving val/test", o.input, "lower --val-fraction/--test-fraction");
  }

  // 1. The tokenizer, from the words of a bounded sample of train documents only.
  TokenizerSample sample;
  const std::string model = train_on_sample(source, o, sample);
  const std::string model_path = (fs::path(o.output) / kTokenizerFile).string();
  written.push_back(model_path);
  core::write_file_atomically(model_path, model);
  const Tokenizer tokenizer = Tokenizer::from_model(model);
  spdlog::info("tokenizer: {} pieces, trained in {:.2f} s", tokenizer.size(), sample.train_seconds);

  // 2. Every document encoded once, in source order, into its split's staging files.
  std::vector<std::unique_ptr<StagedSplit>> staged;
  for (Part part : {Part::kTrain, Part::kVal, Part::kTest}) {
    staged.push_back(std::make_unique<StagedSplit>(o.output, part_name(part)));
  }
  const EncodeStats stats = encode_all(source, tokenizer, o, staged);

  core::Manifest m;
  m.task = "text_classification";
  m.source = source.kind();
  m.fields = {{"tokens", "int32", {-1}}, {"label", "int64", {}}};
  m.class_names = source.class_names();
  const SkippedDocuments& skipped = source.skipped();
  const int64_t n = source.documents();
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

  // 3. Shards: each split in its seeded order, documents gathered from its staging files in bounded chunks.
  const int64_t train_samples = staged[0]->documents();
  std::vector<int32_t> values;
  std::vector<int64_t> lengths, chunk_labels;
  for (size_t s = 0; s < staged.size(); ++s) {
    StagedSplit& split = *staged[s];
    const int64_t rows = split.documents();
    if (rows == 0) continue;
    const SplitOrder order(rows, o.seed, s);
    const std::string name = part_name(static_cast<Part>(s));
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
          const size_t before = values.size();
          const int64_t label = split.gather(order.index_at(i), values);
          lengths.push_back(static_cast<int64_t>(values.size() - before));
          chunk_labels.push_back(label);
          ++counts[static_cast<size_t>(label)];
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
