// sentencepiece behind strike's Tokenizer: the only file that includes its headers.
#include "dataset_tools/tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <fstream>
#include <sstream>
#include <unordered_map>

#include "core/error.h"

namespace strike::data {

namespace {

class VectorIterator : public sentencepiece::SentenceIterator {
 public:
  explicit VectorIterator(const std::vector<std::string>& sentences) : sentences_(sentences) {}
  bool done() const override { return i_ >= sentences_.size(); }
  void Next() override { ++i_; }
  const std::string& value() const override { return sentences_[i_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<std::string>& sentences_;
  size_t i_ = 0;
};

// Bytes a token covers at most, for a first guess of how much text max_tokens tokens need.
constexpr size_t kPrefixBytesPerToken = 8;

}  // namespace

std::string train_tokenizer(const std::vector<std::string>& sentences, const TokenizerSpec& spec) {
  if (sentences.empty()) throw Error("no text to train the tokenizer on", "", "the train split holds only blank lines");
  const std::unordered_map<std::string, std::string> args = {
      {"model_type", spec.type},
      {"vocab_size", std::to_string(spec.vocab_size)},
      // A soft limit: a small corpus (tests, tiny data sets) gets the pieces it can support.
      {"hard_vocab_limit", "false"},
      {"num_threads", std::to_string(std::max(1, spec.threads))},
      // Mail lines (base64, HTML) can be long; the default 4192 would drop them from training.
      {"max_sentence_length", "65536"},
      {"input_sentence_size", "0"},  // the caller already bounded the sample
      {"pad_id", std::to_string(kPadId)},
      {"unk_id", std::to_string(kUnkId)},
      {"bos_id", "-1"},
      {"eos_id", "-1"},
      {"minloglevel", "2"},  // sentencepiece's progress lines would drown strike's own
  };
  VectorIterator it(sentences);
  std::string model;
  auto status = sentencepiece::SentencePieceTrainer::Train(args, &it, &model);
  if (!status.ok()) {
    throw Error("sentencepiece could not train the tokenizer: " + status.ToString(), "",
                "check --vocab-size and --tokenizer-sample (the train text may be too small)");
  }
  return model;
}

Tokenizer::Tokenizer() : processor_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::from_model(const std::string& serialized) {
  Tokenizer t;
  auto status = t.processor_->LoadFromSerializedProto(serialized);
  if (!status.ok()) {
    throw Error("not a sentencepiece model: " + status.ToString(), "", "re-convert the dataset to write a new tokenizer");
  }
  return t;
}

Tokenizer Tokenizer::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open the tokenizer model", path, "re-convert the dataset to write a new tokenizer");
  std::stringstream bytes;
  bytes << in.rdbuf();
  try {
    return from_model(bytes.str());
  } catch (const Error& e) {
    throw Error(e.what(), path, e.hint());
  }
}

std::vector<int32_t> Tokenizer::encode(const std::string& text, int64_t max_tokens) const {
  // Only a prefix is encoded when max_tokens is set: pieces never cross whitespace, so cutting at
  // whitespace leaves the tokens before the cut unchanged, and a long document (a mail with an
  // attachment) costs no more than its first max_tokens tokens. The prefix grows until it suffices.
  size_t prefix = max_tokens > 0 ? static_cast<size_t>(max_tokens) * kPrefixBytesPerToken : text.size();
  std::vector<int> ids;
  while (true) {
    size_t cut = text.size();
    if (prefix < text.size()) {
      cut = text.find_last_of(" \t\r\n", prefix);
      if (cut == std::string::npos || cut == 0) cut = text.find_first_of(" \t\r\n", prefix);
      if (cut == std::string::npos) cut = text.size();
    }
    ids.clear();
    auto status = processor_->Encode(absl::string_view(text.data(), cut), &ids);
    if (!status.ok()) throw Error("sentencepiece could not encode a text: " + status.ToString());
    if (cut == text.size() || static_cast<int64_t>(ids.size()) > max_tokens) break;
    prefix = std::max(prefix * 2, cut + 1);
  }
  if (max_tokens > 0 && static_cast<int64_t>(ids.size()) > max_tokens) ids.resize(static_cast<size_t>(max_tokens));
  return {ids.begin(), ids.end()};
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string text;
  processor_->Decode(std::vector<int>(ids.begin(), ids.end()), &text);
  return text;
}

std::string Tokenizer::piece(int32_t id) const { return processor_->IdToPiece(id); }

int64_t Tokenizer::size() const { return processor_->GetPieceSize(); }

}  // namespace strike::data
