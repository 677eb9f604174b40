// The tokenizer's training input: the whitespace-separated words of the train sample and how often each occurs.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace strike::data {

struct WordCount {
  std::string word;
  int64_t count = 0;
};

// sentencepiece's trainers split their input at whitespace and learn from the words' counts, never from
// the running text; counting here, on every core, hands them that table directly.
class WordCounts {
 public:
  // Counts the words of `texts` (split at ASCII whitespace) on up to `threads` threads.
  void add(const std::vector<std::string>& texts, int threads);

  int64_t distinct() const { return static_cast<int64_t>(counts_.size()); }
  // Bytes of every occurrence of the words seen at least `min_count` times (count × length).
  int64_t bytes(int64_t min_count = 1) const;
  // The words seen at least `min_count` times, sorted by word: the table, and so the tokenizer trained
  // on it, does not depend on hash order or on how the texts were cut into threads.
  std::vector<WordCount> at_least(int64_t min_count) const;

 private:
  std::unordered_map<std::string, int64_t> counts_;
};

}  // namespace strike::data
