// The sentencepiece tokenizer of a text dataset: trained at convert time, stored with the dataset, used to encode.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "dataset_tools/word_counts.h"

namespace strike::data {

class SentencePieceApi;

// Ids every strike tokenizer reserves, so batches can be padded without a lookup.
constexpr int32_t kPadId = 0;
constexpr int32_t kUnkId = 1;

struct TokenizerSpec {
  std::string type = "unigram";  // sentencepiece model type: "unigram" or "bpe"
  int64_t vocab_size = 8000;     // an upper bound: a small training text yields fewer pieces
  int threads = 1;               // training threads
};

// Trains on a table of words and their counts (sentencepiece's TSV input) and returns the serialized
// model; throws Error with sentencepiece's message when training fails. sentencepiece runs in its own module
// (libstrike_sentencepiece.so next to the executable, see sentencepiece_api.h), loaded on first use.
std::string train_tokenizer(const std::vector<WordCount>& words, const TokenizerSpec& spec);

class Tokenizer {
 public:
  static Tokenizer from_model(const std::string& serialized);  // throws Error if it is not a model
  static Tokenizer load(const std::string& path);              // tokenizer.model of a dataset
  Tokenizer(Tokenizer&& other) noexcept;
  Tokenizer& operator=(Tokenizer&& other) noexcept;
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;
  ~Tokenizer();

  // Token ids of `text`, at most `max_tokens` of them (the first ones; 0 = all). Safe to call from
  // several threads.
  std::vector<int32_t> encode(const std::string& text, int64_t max_tokens = 0) const;
  std::string decode(const std::vector<int32_t>& ids) const;
  std::string piece(int32_t id) const;
  int64_t size() const;  // pieces in the vocabulary

 private:
  Tokenizer() = default;
  SentencePieceApi* api_ = nullptr;
  void* processor_ = nullptr;  // owned; released through api_
};

}  // namespace strike::data
