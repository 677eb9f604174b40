// The sentencepiece tokenizer of a text dataset: trained at convert time, stored with the dataset, used to encode.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace strike::data {

// Ids every strike tokenizer reserves, so batches can be padded without a lookup.
constexpr int32_t kPadId = 0;
constexpr int32_t kUnkId = 1;

struct TokenizerSpec {
  std::string type = "unigram";  // sentencepiece model type: "unigram" or "bpe"
  int64_t vocab_size = 8000;     // an upper bound: a small training text yields fewer pieces
  int threads = 1;               // training threads
};

// Trains on `sentences` (lines of train documents) and returns the serialized model; throws Error
// with sentencepiece's message when training fails.
std::string train_tokenizer(const std::vector<std::string>& sentences, const TokenizerSpec& spec);

class Tokenizer {
 public:
  static Tokenizer from_model(const std::string& serialized);  // throws Error if it is not a model
  static Tokenizer load(const std::string& path);              // tokenizer.model of a dataset
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Token ids of `text`, at most `max_tokens` of them (the first ones; 0 = all). Safe to call from
  // several threads.
  std::vector<int32_t> encode(const std::string& text, int64_t max_tokens = 0) const;
  std::string decode(const std::vector<int32_t>& ids) const;
  std::string piece(int32_t id) const;
  int64_t size() const;  // pieces in the vocabulary

 private:
  Tokenizer();
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
};

}  // namespace strike::data
