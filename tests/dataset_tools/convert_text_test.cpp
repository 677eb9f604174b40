// Text conversion: lenient decoding, class folders and CSV text, the tokenizer stored and used, ragged shards.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/checksum.h"
#include "core/error.h"
#include "core/manifest.h"
#include "core/shard.h"
#include "dataset_tools/converter.h"
#include "dataset_tools/data_commands.h"
#include "dataset_tools/inspect.h"
#include "dataset_tools/split.h"
#include "dataset_tools/text_source.h"
#include "dataset_tools/tokenizer.h"
#include "dataset_tools/verify.h"
#include "test_util.h"

namespace strike {
namespace {

namespace fs = std::filesystem;

#ifdef STRIKE_HAS_SENTENCEPIECE
constexpr bool kBuiltWithSentencepiece = true;
#else
constexpr bool kBuiltWithSentencepiece = false;
#endif

const std::vector<std::string> kHamWords = {"meeting", "schedule", "project", "report", "linux", "kernel", "patch",
                                            "review", "thanks", "tomorrow", "agenda", "release"};
const std::vector<std::string> kSpamWords = {"money", "free", "click", "winner", "offer", "cheap", "viagra",
                                             "casino", "prize", "unsubscribe", "cash", "bonus"};

// A deterministic mail-like document: a subject line, then a few lines of words of one class.
std::string document(const std::vector<std::string>& words, int seed, int lines = 4) {
  std::string text = "Subject: " + words[seed % words.size()] + " " + words[(seed * 7 + 3) % words.size()] + "\n\n";
  for (int l = 0; l < lines; ++l) {
    for (int w = 0; w < 8; ++w) text += words[(seed * 31 + l * 17 + w * 5) % words.size()] + (w < 7 ? " " : "\n");
  }
  return text;
}

// The text as sentencepiece gives it back: runs of whitespace (newlines too) as one space, trimmed.
std::string squash(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (!space) {
      out += c;
    } else if (!out.empty() && out.back() != ' ') {
      out += ' ';
    }
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// Tokens and labels of every row of one split.
struct Rows {
  std::vector<std::vector<int32_t>> tokens;
  std::vector<int64_t> labels;
};
Rows read_split(const core::Manifest& m, const std::string& dir, const std::string& split) {
  Rows rows;
  for (const auto& shard : m.split(split).shards) {
    core::ShardReader reader(dir + "/" + shard.file, m.fields);
    std::vector<int64_t> offsets, labels(static_cast<size_t>(reader.rows()));
    std::vector<uint8_t> bytes;
    reader.read_ragged(m.field("tokens"), 0, reader.rows(), offsets, bytes);
    reader.read(m.field("label"), 0, reader.rows(), labels.data());
    for (int64_t r = 0; r < reader.rows(); ++r) {
      std::vector<int32_t> ids(static_cast<size_t>(offsets[r + 1] - offsets[r]));
      std::memcpy(ids.data(), bytes.data() + offsets[r] * 4, ids.size() * 4);
      rows.tokens.push_back(ids);
      rows.labels.push_back(labels[r]);
    }
  }
  return rows;
}

std::string error_message(const data::ConvertOptions& o) {
  try {
    data::convert(o);
  } catch (const Error& e) {
    return std::string(e.what()) + " @ " + e.where() + " | " + e.hint();
  }
  return "(no error)";
}

class TextFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kBuiltWithSentencepiece) GTEST_SKIP() << "strike was built without sentencepiece";
    fs::create_directories(input_ / "ham");
    fs::create_directories(input_ / "spam");
    for (int i = 0; i < 40; ++i) write_text(input_ / ("ham/" + std::to_string(i) + ".txt"), document(kHamWords, i));
    for (int i = 0; i < 20; ++i) write_text(input_ / ("spam/" + std::to_string(i) + ".txt"), document(kSpamWords, i));
    // Mixed encodings: Latin-1 (é as one byte), a stray invalid byte, and bytes that are valid UTF-8.
    write_text(input_ / "ham/latin1.txt", "Subject: caf\xe9 meeting\n\nthe caf\xe9 agenda for the project review\n");
    write_text(input_ / "spam/invalid.txt", "Subject: free \xff\xfe money\n\nclick \x80 here for cash\n");
    write_text(input_ / "ham/utf8.txt", "Subject: caf\xc3\xa9 meeting\n\nthe project report \xe2\x9c\x93\n");
    write_text(input_ / "spam/empty.txt", "");
    fs::create_symlink(input_ / "spam/missing-target.txt", input_ / "spam/dangling.txt");
    options_.source = "text_folder";
    options_.input = input_.path();
    options_.output = output_ / "ds";
    options_.shards = 2;
    options_.vocab_size = 120;
  }
  test::TempDir input_, output_;
  data::ConvertOptions options_;
};

TEST(RepairUtf8, ValidTextIsUntouchedAndBadBytesReadAsLatin1) {
  std::string valid = "plain, caf\xc3\xa9, \xe6\x97\xa5\xe6\x9c\xac, \xf0\x9f\x98\x80";
  std::string copy = valid;
  EXPECT_FALSE(data::repair_utf8(copy));
  EXPECT_EQ(copy, valid);
  std::string latin1 = "caf\xe9";
  EXPECT_TRUE(data::repair_utf8(latin1));
  EXPECT_EQ(latin1, "caf\xc3\xa9");
  for (std::string bad : {"\x80", "a\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x9c"}) {
    std::string text = bad;
    EXPECT_TRUE(data::repair_utf8(text)) << bad;
    EXPECT_FALSE(data::repair_utf8(text)) << "the repaired text must be valid UTF-8: " << text;
  }
  std::string overlong = "\xc0\xaf";
  data::repair_utf8(overlong);
  EXPECT_EQ(overlong, "\xc3\x80\xc2\xaf");  // each byte on its own, never '/'
}

TEST_F(TextFolder, ConvertsWithReportAndStratifiedSplit) {
  core::Manifest m = data::convert(options_);
  EXPECT_EQ(m.task, "text_classification");
  EXPECT_EQ(m.source, "text_folder");
  EXPECT_EQ(m.class_names, (std::vector<std::string>{"ham", "spam"}));
  ASSERT_TRUE(m.field("tokens").ragged());
  EXPECT_EQ(m.field("tokens").dtype, "int32");
  const auto& docs = m.extra["documents"];
  EXPECT_EQ(docs["usable"], 63);  // 42 ham + 21 spam
  EXPECT_EQ(docs["empty"], 1);
  EXPECT_EQ(docs["unreadable"], 1);
  EXPECT_EQ(docs["repaired_encoding"], 2);
  // Stratified like stratified_split says: 42 ham, 21 spam; val and test 10% each.
  std::vector<int64_t> labels(42, 0);
  labels.resize(63, 1);
  data::SplitIndices expected = data::stratified_split(labels, 2, 0.1, 0.1, 0);
  EXPECT_EQ(m.split("train").samples, static_cast<int64_t>(expected.train.size()));
  EXPECT_EQ(m.split("val").samples, static_cast<int64_t>(expected.val.size()));
  EXPECT_EQ(m.split("test").samples, static_cast<int64_t>(expected.test.size()));
  EXPECT_EQ(m.extra["class_counts"]["val"], (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(m.extra["class_counts"]["test"], (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(m.split("train").shards.size(), 2u);
}

TEST_F(TextFolder, TokenizerIsStoredAndDecodesTheShards) {
  core::Manifest m = data::convert(options_);
  const std::string model = options_.output + "/tokenizer.model";
  ASSERT_TRUE(fs::exists(model));
  EXPECT_EQ(m.extra["tokenizer"]["file"], "tokenizer.model");
  EXPECT_EQ(m.extra["tokenizer"]["checksum"], core::file_checksum(model));
  EXPECT_EQ(m.extra["tokenizer"]["type"], "unigram");
  EXPECT_FALSE(fs::exists(options_.output + "/.tokens.staging"));
  data::Tokenizer tokenizer = data::Tokenizer::load(model);
  EXPECT_EQ(m.extra["tokenizer"]["pieces"], tokenizer.size());
  int64_t rows = 0;
  for (const char* split : {"train", "val", "test"}) {
    Rows r = read_split(m, options_.output, split);
    for (size_t i = 0; i < r.tokens.size(); ++i, ++rows) {
      ASSERT_FALSE(r.tokens[i].empty());
      for (int32_t id : r.tokens[i]) ASSERT_TRUE(id > data::kPadId && id < tokenizer.size()) << id;
      // The ids decode back to the document's text, and the label belongs to it.
      const std::string text = tokenizer.decode(r.tokens[i]);
      ASSERT_EQ(text.rfind("Subject:", 0), 0u) << text;
      const auto& words = r.labels[i] == 0 ? kHamWords : kSpamWords;
      bool found = false;
      for (const auto& w : words) found = found || text.find(w) != std::string::npos;
      EXPECT_TRUE(found) << "label " << r.labels[i] << " on: " << text;
    }
  }
  EXPECT_EQ(rows, 63);
  // Encoding a document at predict time gives the ids the shards hold.
  const std::string doc = document(kHamWords, 3);
  std::vector<int32_t> ids = tokenizer.encode(doc);
  EXPECT_EQ(tokenizer.decode(ids), squash(doc));
}

TEST_F(TextFolder, MaxTokensTruncatesAndBpeIsAnOption) {
  options_.max_tokens = 5;
  options_.tokenizer = "bpe";
  core::Manifest m = data::convert(options_);
  EXPECT_EQ(m.extra["tokenizer"]["type"], "bpe");
  EXPECT_GT(m.extra["documents"]["truncated"].get<int64_t>(), 50);
  Rows r = read_split(m, options_.output, "train");
  for (const auto& ids : r.tokens) EXPECT_LE(ids.size(), 5u);
  // The kept ids are the first ones of the whole document.
  data::Tokenizer tokenizer = data::Tokenizer::load(options_.output + "/tokenizer.model");
  const std::string doc = document(kSpamWords, 5, 40);
  std::vector<int32_t> all = tokenizer.encode(doc), first = tokenizer.encode(doc, 5);
  ASSERT_GT(all.size(), 5u);
  EXPECT_EQ(first, std::vector<int32_t>(all.begin(), all.begin() + 5));
}

TEST_F(TextFolder, SameSeedSameBytes) {
  core::Manifest first = data::convert(options_);
  options_.output = output_ / "again";
  core::Manifest second = data::convert(options_);
  EXPECT_EQ(first.extra["tokenizer"]["checksum"], second.extra["tokenizer"]["checksum"]);
  for (const char* split : {"train", "val", "test"}) {
    ASSERT_EQ(first.split(split).shards.size(), second.split(split).shards.size());
    for (size_t k = 0; k < first.split(split).shards.size(); ++k) {
      EXPECT_EQ(first.split(split).shards[k].checksum, second.split(split).shards[k].checksum) << split << " " << k;
    }
  }
  options_.output = output_ / "other-seed";
  options_.seed = 1;
  core::Manifest third = data::convert(options_);
  EXPECT_NE(first.split("train").shards[0].checksum, third.split("train").shards[0].checksum);
}

TEST_F(TextFolder, LabelMapMergesFolders) {
  fs::create_directories(input_ / "spam-2");
  for (int i = 0; i < 10; ++i) write_text(input_ / ("spam-2/" + std::to_string(i)), document(kSpamWords, 100 + i));
  options_.label_map = {"spam-2=spam"};
  core::Manifest m = data::convert(options_);
  EXPECT_EQ(m.class_names, (std::vector<std::string>{"ham", "spam"}));
  EXPECT_EQ(m.extra["documents"]["usable"], 73);
  options_.overwrite = true;
  options_.label_map = {"nope=spam"};
  EXPECT_THROW(data::convert(options_), UsageError);
  options_.label_map = {"spam-2"};
  EXPECT_THROW(data::convert(options_), UsageError);
}

TEST_F(TextFolder, UnusableCorporaAreClearErrors) {
  fs::remove_all(input_ / "spam");
  std::string message = error_message(options_);
  EXPECT_NE(message.find("only one class, 'ham'"), std::string::npos) << message;
  fs::create_directories(input_ / "spam");
  write_text(input_ / "spam/empty.txt", "");
  message = error_message(options_);
  EXPECT_NE(message.find("class 'spam' has no usable document"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(options_.output + "/manifest.json"));
  test::TempDir nothing;
  fs::create_directories(nothing / "a");
  options_.input = nothing.path();
  message = error_message(options_);
  EXPECT_NE(message.find("no usable text document"), std::string::npos) << message;
}

// The tokenizer trains on the sample's word counts, without the words seen once, unless those hold
// most of the text (a script written without spaces).
TEST_F(TextFolder, RareWordsAreLeftOutOfTokenizerTraining) {
  for (int i = 0; i < 30; ++i) {
    write_text(input_ / ("ham/id" + std::to_string(i) + ".txt"),
               document(kHamWords, i) + "Message-Id: <" + std::to_string(1000003 * (i + 7)) + "@example.org>\n");
  }
  core::Manifest m = data::convert(options_);
  const auto& t = m.extra["tokenizer"];
  EXPECT_EQ(t["min_count"], 2);
  // 24 words, "Subject:", the three mixed-encoding words seen twice or more; the 30 ids, "Message-Id:" and
  // a few words of the odd files are seen less in the sample, which holds some of them.
  EXPECT_GT(t["sample_words"].get<int64_t>(), t["training_words"].get<int64_t>() + 10);
  EXPECT_GE(t["training_words"].get<int64_t>(), 25);

  options_.output = output_ / "every-word";
  options_.tokenizer_min_count = 1;
  m = data::convert(options_);
  EXPECT_EQ(m.extra["tokenizer"]["min_count"], 1);
  EXPECT_EQ(m.extra["tokenizer"]["training_words"], m.extra["tokenizer"]["sample_words"]);

  // Text without spaces: every document one word, seen once; min count 2 would leave nothing.
  test::TempDir spaceless;
  for (const char* cls : {"a", "b"}) {
    fs::create_directories(spaceless / cls);
    for (int i = 0; i < 20; ++i) {
      std::string text = document(cls[0] == 'a' ? kHamWords : kSpamWords, i) + std::to_string(i);
      text.erase(std::remove_if(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\n'; }), text.end());
      write_text((spaceless / cls) + "/" + std::to_string(i) + ".txt", text);
    }
  }
  options_.input = spaceless.path();
  options_.output = output_ / "spaceless";
  options_.tokenizer_min_count = 2;
  m = data::convert(options_);
  EXPECT_EQ(m.extra["tokenizer"]["min_count"], 1);
  EXPECT_EQ(m.extra["tokenizer"]["training_words"], m.extra["tokenizer"]["sample_words"]);
  EXPECT_GT(m.extra["tokenizer"]["pieces"].get<int64_t>(), 30);
}

TEST_F(TextFolder, ASampleLimitBelowOneDocumentStillTrainsOnOne) {
  options_.tokenizer_sample = 1;
  core::Manifest m = data::convert(options_);
  EXPECT_EQ(m.extra["tokenizer"]["sample_documents"], 1);
  EXPECT_GT(m.extra["tokenizer"]["pieces"].get<int64_t>(), 10);
}

// The source keeps file names only and meets sizes and labels again on every read, so a file that
// goes away between the passes must stop the conversion rather than shift the dataset.
TEST_F(TextFolder, AFileRemovedBetweenThePassesIsAnError) {
  auto source = data::open_text_source(options_);
  EXPECT_EQ(source->documents(), 63);  // the empty file and the dangling link are not usable
  EXPECT_EQ(source->class_sizes(), (std::vector<int64_t>{42, 21}));
  int64_t seen = 0;
  source->read([](const data::DocumentRef& doc) { return doc.index % 2 == 0; }, 1, [&](data::TextBatch& batch) {
    for (size_t k = 0; k < batch.index.size(); ++k) {
      EXPECT_EQ(batch.index[k] % 2, 0);
      EXPECT_EQ(batch.label[k], batch.where[k].find("/spam/") != std::string::npos ? 1 : 0) << batch.where[k];
    }
    seen += static_cast<int64_t>(batch.index.size());
    return true;
  });
  EXPECT_EQ(seen, 32);
  fs::remove(input_ / "spam/3.txt");
  try {
    source->read([](const data::DocumentRef&) { return true; }, 1 << 20, [](data::TextBatch&) { return true; });
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("changed while it was being converted"), std::string::npos) << e.what();
    EXPECT_NE(e.where().find("spam/3.txt"), std::string::npos) << e.where();
  }
}

TEST_F(TextFolder, VerifyAndInspectHandleRaggedShards) {
  data::convert(options_);
  data::VerifyReport report = data::verify(options_.output);
  EXPECT_TRUE(report.ok) << (report.problems.empty() ? "" : report.problems[0]);
  std::ostringstream out;
  data::inspect(options_.output, out);
  EXPECT_NE(out.str().find("text_classification"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("lengths   tokens: min"), std::string::npos) << out.str();
}

TEST_F(TextFolder, CommandLineFlagsMapOntoOptions) {
  CLI::App app("strike");
  data::add_data_commands(app);
  std::vector<std::string> args = {"data", "convert", "--source", "text_folder", "--input", input_.path(), "--output",
                                   options_.output, "--vocab-size", "100", "--max-tokens", "64", "--tokenizer", "bpe",
                                   "--tokenizer-sample", "3000", "--tokenizer-min-count", "3", "--label-map", "spam=junk",
                                   "--shards", "1"};
  std::reverse(args.begin(), args.end());
  testing::internal::CaptureStdout();
  app.parse(args);
  EXPECT_NE(testing::internal::GetCapturedStdout().find("2 classes"), std::string::npos);
  core::Manifest m = core::Manifest::load(options_.output);
  EXPECT_EQ(m.class_names, (std::vector<std::string>{"ham", "junk"}));
  EXPECT_EQ(m.extra["max_tokens"], 64);
  EXPECT_EQ(m.extra["tokenizer"]["type"], "bpe");
  EXPECT_EQ(m.extra["tokenizer"]["vocab_size"], 100);
  EXPECT_EQ(m.extra["tokenizer"]["sample_limit_bytes"], 3000);
  EXPECT_EQ(m.extra["tokenizer"]["min_count"], 3);
  // The sample stops at the first document that reaches the limit (these are about 250 bytes each).
  EXPECT_LT(m.extra["tokenizer"]["sample_documents"].get<int64_t>(), 20);
  EXPECT_LE(m.extra["tokenizer"]["sample_bytes"].get<int64_t>(), 3000 + 300);

  CLI::App fresh("strike");
  data::add_data_commands(fresh);
  const std::string help = fresh.get_subcommand("data")->get_subcommand("convert")->help();
  for (const char* expected : {"text_folder", "text_csv", "--text-column", "--label-map", "--tokenizer", "unigram",
                               "--vocab-size", "8000", "--max-tokens", "512", "--tokenizer-sample", "10000000",
                               "--tokenizer-min-count", "2"}) {
    EXPECT_NE(help.find(expected), std::string::npos) << "missing " << expected << " in\n" << help;
  }
  std::vector<std::string> bad = {"data", "convert", "--input", "y", "--output", "x", "--tokenizer", "wordpiece"};
  std::reverse(bad.begin(), bad.end());
  CLI::App strict("strike");
  data::add_data_commands(strict);
  EXPECT_THROW(strict.parse(bad), CLI::ValidationError);
}

// The ragged shards open in Python: h5py sees int32 values and int64 offsets that slice into rows.
TEST_F(TextFolder, RaggedShardsOpenInH5py) {
  const char* python = "/usr/bin/python3";
  if (std::system((std::string(python) + " -c 'import h5py, numpy' >/dev/null 2>&1").c_str()) != 0) {
    GTEST_SKIP() << "h5py is not available to " << python;
  }
  core::Manifest m = data::convert(options_);
  std::ofstream(output_ / "check.py") << R"PY(
import json, sys
import h5py, numpy as np
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
rows = 0
for split in m["splits"].values():
    for s in split["shards"]:
        with h5py.File(d + "/" + s["file"], "r") as f:
            tokens, offsets, label = f["tokens"], f["tokens_offsets"][:], f["label"][:]
            assert tokens.dtype == np.int32 and offsets.dtype == np.int64, (tokens.dtype, offsets.dtype)
            assert offsets.shape == (s["samples"] + 1,) and offsets[0] == 0 and offsets[-1] == tokens.shape[0]
            assert (np.diff(offsets) > 0).all()
            first = tokens[offsets[0]:offsets[1]]
            assert first.min() > 0 and first.max() < m["extra"]["tokenizer"]["pieces"]
            rows += len(label)
assert rows == m["extra"]["documents"]["usable"], rows
print("ok")
)PY";
  const std::string command = std::string(python) + " " + (output_ / "check.py") + " " + options_.output + " > " +
                              (output_ / "log") + " 2>&1";
  const int rc = std::system(command.c_str());
  std::ifstream log(output_ / "log");
  std::string printed((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << printed;
  (void)m;
}

class TextCsv : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kBuiltWithSentencepiece) GTEST_SKIP() << "strike was built without sentencepiece";
    std::ofstream csv(path_);
    csv << "id,label,text\n";
    for (int i = 0; i < 30; ++i) {
      const bool spam = i % 3 == 0;
      std::string text = document(spam ? kSpamWords : kHamWords, i, 2);
      if (i == 1) text += "caf\xe9\n";  // Latin-1 inside a CSV field: repaired, counted
      std::string quoted;
      for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
      csv << i << "," << (spam ? "spam" : "ham") << ",\"" << quoted << ", with \"\"quotes\"\"\"\n";
    }
    csv << "99,ham,\n";  // an empty text: skipped and counted
    csv.close();
    options_.source = "text_csv";
    options_.input = path_;
    options_.output = dir_ / "ds";
    options_.target = "label";
    options_.vocab_size = 100;
    options_.shards = 1;
  }
  test::TempDir dir_;
  std::string path_ = dir_ / "mail.csv";
  data::ConvertOptions options_;
};

TEST_F(TextCsv, ConvertsTextAndLabelColumns) {
  core::Manifest m = data::convert(options_);
  EXPECT_EQ(m.source, "text_csv");
  EXPECT_EQ(m.class_names, (std::vector<std::string>{"ham", "spam"}));
  EXPECT_EQ(m.extra["documents"]["usable"], 30);
  EXPECT_EQ(m.extra["documents"]["empty"], 1);
  EXPECT_EQ(m.extra["documents"]["repaired_encoding"], 1);
  EXPECT_EQ(m.extra["text_column"], "text");
  data::Tokenizer tokenizer = data::Tokenizer::load(options_.output + "/tokenizer.model");
  Rows r = read_split(m, options_.output, "train");
  for (size_t i = 0; i < r.tokens.size(); ++i) {
    const std::string text = tokenizer.decode(r.tokens[i]);
    EXPECT_NE(text.find("with \"quotes\""), std::string::npos) << text;  // quoted newlines and quotes survive
  }
  EXPECT_TRUE(data::verify(options_.output).ok);
}

TEST_F(TextCsv, MalformedRowAndBadColumnsAreNamed) {
  std::ofstream(path_, std::ios::app) << "100,spam,free money,extra field\n";
  std::string message = error_message(options_);
  EXPECT_NE(message.find("row has 4 fields, the header has 3"), std::string::npos) << message;
  EXPECT_NE(message.find("mail.csv:"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(options_.output + "/manifest.json"));
  options_.text_column = "body";
  message = error_message(options_);
  EXPECT_NE(message.find("--text-column names 'body'"), std::string::npos) << message;
  options_.text_column = "text";
  options_.target = "";
  EXPECT_THROW(data::convert(options_), UsageError);
}

TEST_F(TextCsv, OneLabelIsAnError) {
  std::ofstream(path_) << "label,text\nham,hello there\nham,another mail\n";
  std::string message = error_message(options_);
  EXPECT_NE(message.find("only one class, 'ham'"), std::string::npos) << message;
}

TEST_F(TextCsv, ARowChangedBetweenThePassesIsAnError) {
  auto source = data::open_text_source(options_);
  EXPECT_EQ(source->class_sizes(), (std::vector<int64_t>{20, 10}));
  std::ifstream in(path_);
  const std::string new_row_line = std::to_string(
      std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n') + 1);
  std::ofstream(path_, std::ios::app) << "100,eggs,a new label\n";
  try {
    source->read([](const data::DocumentRef&) { return true; }, 1 << 20, [](data::TextBatch&) { return true; });
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("changed while it was being converted"), std::string::npos) << e.what();
    EXPECT_NE(e.where().find("mail.csv:" + new_row_line), std::string::npos) << e.where();
  }
  // A row relabelled with a class that exists: that class now has more rows than were counted.
  source = data::open_text_source(options_);
  std::ifstream original(path_);
  std::string text((std::istreambuf_iterator<char>(original)), std::istreambuf_iterator<char>());
  text.replace(text.find("\n0,spam,"), 8, "\n0,ham,");
  std::ofstream(path_, std::ios::trunc) << text;
  try {
    source->read([](const data::DocumentRef&) { return true; }, 1 << 20, [](data::TextBatch&) { return true; });
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("changed while it was being converted"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace strike
