// WordCounts: the tokenizer's training table, the same whatever the thread count.
#include <gtest/gtest.h>

#include "dataset_tools/word_counts.h"

namespace strike {
namespace {

std::vector<std::pair<std::string, int64_t>> flat(const std::vector<data::WordCount>& table) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& w : table) out.emplace_back(w.word, w.count);
  return out;
}

TEST(WordCounts, CountsWordsBetweenAnyWhitespace) {
  data::WordCounts counts;
  counts.add({"the cat\tsat\r\non  the\vmat\f", "", "   ", "the end"}, 1);
  EXPECT_EQ(counts.distinct(), 6);
  const std::vector<std::pair<std::string, int64_t>> all = {{"cat", 1}, {"end", 1}, {"mat", 1},
                                                            {"on", 1},  {"sat", 1}, {"the", 3}};
  EXPECT_EQ(flat(counts.at_least(1)), all);
  EXPECT_EQ(flat(counts.at_least(2)), (std::vector<std::pair<std::string, int64_t>>{{"the", 3}}));
  EXPECT_TRUE(counts.at_least(4).empty());
  EXPECT_EQ(counts.bytes(), 3 * 3 + 4 * 3 + 2);
  EXPECT_EQ(counts.bytes(2), 3 * 3);
  // Later texts add to the same counts; multi-byte UTF-8 stays inside its word.
  counts.add({"caf\xc3\xa9 the"}, 1);
  EXPECT_EQ(flat(counts.at_least(4)), (std::vector<std::pair<std::string, int64_t>>{{"the", 4}}));
  EXPECT_EQ(counts.at_least(1).front().word, "caf\xc3\xa9");
}

TEST(WordCounts, SameTableWhateverTheThreads) {
  std::vector<std::string> texts;
  for (int i = 0; i < 97; ++i) {
    std::string text;
    for (int w = 0; w < 30; ++w) text += "w" + std::to_string((i * 13 + w * 7) % 41) + (w % 5 ? " " : "\n");
    texts.push_back(text);
  }
  data::WordCounts one;
  one.add(texts, 1);
  for (int threads : {2, 3, 8, 200}) {
    data::WordCounts many;
    many.add(texts, threads);
    EXPECT_EQ(flat(many.at_least(1)), flat(one.at_least(1))) << threads << " threads";
  }
  int64_t total = 0;
  for (const auto& w : one.at_least(1)) total += w.count;
  EXPECT_EQ(total, 97 * 30);
}

}  // namespace
}  // namespace strike
