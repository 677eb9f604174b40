// Word counting for the tokenizer: contiguous slices of the texts counted on their own threads, merged in order.
#include "dataset_tools/word_counts.h"

#include <algorithm>

#include "dataset_tools/parallel.h"

namespace strike::data {

namespace {

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

void count_words(const std::string& text, std::unordered_map<std::string, int64_t>& counts, std::string& word) {
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    while (i < n && is_space(text[i])) ++i;
    const size_t start = i;
    while (i < n && !is_space(text[i])) ++i;
    if (i == start) continue;
    word.assign(text, start, i - start);  // reused, so a word already counted costs no allocation
    ++counts[word];
  }
}

}  // namespace

void WordCounts::add(const std::vector<std::string>& texts, int threads) {
  const int64_t n = static_cast<int64_t>(texts.size());
  const int64_t slices = std::max<int64_t>(1, std::min<int64_t>(threads, n));
  std::vector<std::unordered_map<std::string, int64_t>> partial(static_cast<size_t>(slices));
  parallel_for(slices, static_cast<int>(slices), [&](int64_t s) {
    std::string word;
    for (int64_t i = s * n / slices; i < (s + 1) * n / slices; ++i) count_words(texts[i], partial[s], word);
  });
  for (auto& counts : partial) {
    if (counts_.empty()) {
      counts_ = std::move(counts);
      continue;
    }
    for (auto& [word, count] : counts) counts_[word] += count;
  }
}

int64_t WordCounts::bytes(int64_t min_count) const {
  int64_t total = 0;
  for (const auto& [word, count] : counts_) {
    if (count >= min_count) total += count * static_cast<int64_t>(word.size());
  }
  return total;
}

std::vector<WordCount> WordCounts::at_least(int64_t min_count) const {
  std::vector<WordCount> table;
  for (const auto& [word, count] : counts_) {
    if (count >= min_count) table.push_back({word, count});
  }
  std::sort(table.begin(), table.end(), [](const WordCount& a, const WordCount& b) { return a.word < b.word; });
  return table;
}

}  // namespace strike::data
