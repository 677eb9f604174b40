// Converting CSV files to tabular classification datasets: parsing, schema, encoding, split, errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "core/error.h"
#include "core/shard.h"
#include "dataset_tools/converter.h"
#include "dataset_tools/csv_source.h"
#include "dataset_tools/data_commands.h"
#include "dataset_tools/inspect.h"
#include "dataset_tools/tabular_rows.h"
#include "test_util.h"

namespace strike {
namespace {

namespace fs = std::filesystem;

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Rows 4-5 hold one record (a newline inside quotes); line 7 ends in CRLF.
const char* kSmallCsv =
    "height,width,color,note,species\n"
    "1,2,red,\"hello, world\",a\n"
    "NA,2,\"blue\",plain,b\n"
    "4,2,red,\"say \"\"hi\"\"\",c\n"
    ",2,green,\"two\n"
    "lines\",a\n"
    "9,2,blue,plain,b\r\n"
    "2,2,,plain,c\n";

// Every row of a split as read back from its shards.
struct Rows {
  std::vector<float> numeric;
  std::vector<int64_t> categorical, labels;
};

Rows read_rows(const core::Manifest& m, const std::string& dir, const std::string& split) {
  Rows rows;
  const int64_t nw = m.field("numeric").shape.at(0), cw = m.field("categorical").shape.at(0);
  for (const auto& shard : m.split(split).shards) {
    core::ShardReader reader(dir + "/" + shard.file, m.fields);
    const size_t n = static_cast<size_t>(reader.rows());
    const size_t at = rows.labels.size();
    rows.numeric.resize((at + n) * nw);
    rows.categorical.resize((at + n) * cw);
    rows.labels.resize(at + n);
    reader.read(m.field("numeric"), 0, reader.rows(), rows.numeric.data() + at * nw);
    reader.read(m.field("categorical"), 0, reader.rows(), rows.categorical.data() + at * cw);
    reader.read(m.field("label"), 0, reader.rows(), rows.labels.data() + at);
  }
  return rows;
}

using test::error_of;

class ConvertCsv : public ::testing::Test {
 protected:
  void SetUp() override {
    csv_ = input_ / "data.csv";
    options_.input = csv_;
    options_.output = output_ / "ds";
    options_.target = "species";
    options_.shards = 1;
    options_.val_fraction = 0;
    options_.test_fraction = 0;
  }
  // The table of 90 rows: id = i, tag = "t<i>" (unique), cls = x/y/z by i % 3.
  void write_split_csv() {
    std::string text = "id,tag,cls\n";
    for (int i = 0; i < 90; ++i) text += std::to_string(i) + ",t" + std::to_string(i) + "," + "xyz"[i % 3] + "\n";
    write_text(csv_, text);
    options_.target = "cls";
  }
  test::TempDir input_, output_;
  std::string csv_;
  data::ConvertOptions options_;
};

TEST(CsvReader, QuotesEscapesNewlinesCrlfAndBom) {
  test::TempDir dir;
  write_text(dir / "a.csv", "\xEF\xBB\xBFx,y\r\n\"a,b\",\"c\"\"d\"\r\n\n\"multi\nline\",\r\nlast,\"\"");
  data::CsvReader reader(dir / "a.csv");
  std::vector<std::string> f;
  ASSERT_TRUE(reader.next(f));
  EXPECT_EQ(f, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(reader.line(), 1);
  ASSERT_TRUE(reader.next(f));
  EXPECT_EQ(f, (std::vector<std::string>{"a,b", "c\"d"}));
  ASSERT_TRUE(reader.next(f));  // the blank line is skipped
  EXPECT_EQ(f, (std::vector<std::string>{"multi\nline", ""}));
  EXPECT_EQ(reader.line(), 4);
  ASSERT_TRUE(reader.next(f));
  EXPECT_EQ(f, (std::vector<std::string>{"last", ""}));
  EXPECT_EQ(reader.line(), 6);
  EXPECT_FALSE(reader.next(f));
}

TEST(CsvReader, UnterminatedQuoteNamesItsLine) {
  test::TempDir dir;
  write_text(dir / "a.csv", "x,y\n1,2\n3,\"open\n4,5\n");
  data::CsvReader reader(dir / "a.csv");
  std::vector<std::string> f;
  reader.next(f);
  reader.next(f);
  try {
    reader.next(f);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a.csv:3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("never closed"), std::string::npos) << e.what();
  }
}

TEST_F(ConvertCsv, SchemaFittedByHand) {
  write_text(csv_, kSmallCsv);
  core::Manifest m = data::convert(options_);
  EXPECT_EQ(m.task, "tabular_classification");
  EXPECT_EQ(m.source, "csv");
  EXPECT_EQ(m.class_names, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(m.fields.size(), 3u);
  EXPECT_EQ(m.field("numeric").dtype, "float32");
  EXPECT_EQ(m.field("numeric").shape, (std::vector<int64_t>{3}));  // height, width, height's indicator
  EXPECT_EQ(m.field("categorical").dtype, "int64");
  EXPECT_EQ(m.field("categorical").shape, (std::vector<int64_t>{2}));
  EXPECT_TRUE(m.field("label").shape.empty());
  EXPECT_EQ(m.split("train").samples, 6);
  EXPECT_FALSE(m.has_split("val"));
  EXPECT_EQ(m.extra["class_counts"]["train"], (std::vector<int64_t>{2, 2, 2}));

  const auto& schema = m.extra["schema"];
  EXPECT_EQ(schema["target"], "species");
  ASSERT_EQ(schema["columns"].size(), 4u);
  const auto& height = schema["columns"][0];
  EXPECT_EQ(height["name"], "height");
  EXPECT_EQ(height["kind"], "numeric");
  // Train values 1, 4, 9, 2 (NA and empty are missing): median (2 + 4) / 2, mean 16 / 4,
  // population variance (9 + 0 + 25 + 4) / 4.
  EXPECT_DOUBLE_EQ(height["median"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(height["mean"].get<double>(), 4.0);
  EXPECT_DOUBLE_EQ(height["std"].get<double>(), std::sqrt(9.5));
  EXPECT_EQ(height["has_missing"], true);
  EXPECT_EQ(height["indicator"], 2);
  const auto& width = schema["columns"][1];
  EXPECT_EQ(width["kind"], "numeric");
  EXPECT_DOUBLE_EQ(width["mean"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(width["std"].get<double>(), 1.0);  // constant: std 0 is stored as 1
  EXPECT_EQ(width["has_missing"], false);
  EXPECT_EQ(width["indicator"], -1);
  const auto& color = schema["columns"][2];
  EXPECT_EQ(color["kind"], "categorical");
  EXPECT_EQ(color["vocabulary"], (std::vector<std::string>{"<unknown>", "<missing>", "blue", "green", "red"}));
  const auto& note = schema["columns"][3];
  EXPECT_EQ(note["vocabulary"],
            (std::vector<std::string>{"<unknown>", "<missing>", "hello, world", "plain", "say \"hi\"", "two\nlines"}));

  // Shard rows, in any order: standardized heights (missing -> median 3), indicator, indices, label.
  using Row = std::tuple<int64_t, int64_t, int64_t, float, float, float>;  // label, color, note, numeric x3
  const double s = std::sqrt(9.5);
  auto z = [&](double v) { return static_cast<float>((v - 4.0) / s); };
  std::vector<Row> expected = {{0, 4, 2, z(1), 0, 0}, {1, 2, 3, z(3), 0, 1}, {2, 4, 4, z(4), 0, 0},
                               {0, 3, 5, z(3), 0, 1}, {1, 2, 3, z(9), 0, 0}, {2, 1, 3, z(2), 0, 0}};
  Rows rows = read_rows(m, options_.output, "train");
  std::vector<Row> actual;
  for (size_t i = 0; i < rows.labels.size(); ++i) {
    actual.emplace_back(rows.labels[i], rows.categorical[i * 2], rows.categorical[i * 2 + 1], rows.numeric[i * 3],
                        rows.numeric[i * 3 + 1], rows.numeric[i * 3 + 2]);
  }
  std::sort(expected.begin(), expected.end());
  std::sort(actual.begin(), actual.end());
  EXPECT_EQ(actual, expected);
  EXPECT_FLOAT_EQ(z(1), static_cast<float>(-3 / s));  // the expected values are what they claim to be
}

TEST_F(ConvertCsv, StratifiedSplitAndUnseenCategories) {
  write_split_csv();
  options_.val_fraction = 0.2;
  options_.test_fraction = 0.1;
  options_.shards = 3;
  options_.max_categories = 100;
  options_.seed = 5;
  core::Manifest m = data::convert(options_);
  EXPECT_EQ(m.class_names, (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(m.split("train").samples, 63);
  EXPECT_EQ(m.split("train").shards.size(), 3u);
  EXPECT_EQ(m.extra["class_counts"]["train"], (std::vector<int64_t>{21, 21, 21}));
  EXPECT_EQ(m.extra["class_counts"]["val"], (std::vector<int64_t>{6, 6, 6}));
  EXPECT_EQ(m.extra["class_counts"]["test"], (std::vector<int64_t>{3, 3, 3}));
  EXPECT_EQ(m.field("numeric").shape, (std::vector<int64_t>{1}));  // no missing value: no indicator

  const auto& id = m.extra["schema"]["columns"][0];
  const double mean = id["mean"].get<double>(), std = id["std"].get<double>();
  std::set<int64_t> all_ids;
  double train_sum = 0;
  for (const char* split : {"train", "val", "test"}) {
    Rows rows = read_rows(m, options_.output, split);
    std::vector<int64_t> per_class(3, 0);
    for (size_t i = 0; i < rows.labels.size(); ++i) {
      const int64_t row_id = std::llround(rows.numeric[i] * std + mean);
      EXPECT_TRUE(all_ids.insert(row_id).second) << "row " << row_id << " written twice";
      EXPECT_EQ(rows.labels[i], row_id % 3);
      ++per_class[rows.labels[i]];
      // Every tag is unique, so it is known exactly when its row is in train.
      if (std::string(split) == "train") {
        train_sum += static_cast<double>(row_id);
        EXPECT_GE(rows.categorical[i], 2);
      } else {
        EXPECT_EQ(rows.categorical[i], data::kUnknownIndex) << split << " row " << row_id;
      }
    }
    EXPECT_EQ(per_class, m.extra["class_counts"][split].get<std::vector<int64_t>>()) << split;
  }
  EXPECT_EQ(all_ids.size(), 90u);
  EXPECT_NEAR(mean, train_sum / 63, 1e-9);  // fitted on train rows only
  EXPECT_EQ(m.extra["schema"]["columns"][1]["vocabulary"].size(), 2u + 63u);
}

TEST_F(ConvertCsv, TooManyCategoriesNamesTheColumn) {
  write_split_csv();
  options_.val_fraction = 0.2;
  const std::string message = error_of(options_);  // 72 distinct train tags, more than the default 50
  EXPECT_NE(message.find("'tag'"), std::string::npos) << message;
  EXPECT_NE(message.find("--max-categories 50"), std::string::npos) << message;
  EXPECT_NE(message.find("--numeric tag"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(options_.output + "/manifest.json"));
}

TEST_F(ConvertCsv, InferenceOverrides) {
  write_text(csv_, "code,size,label\n1,10,p\n2,11,q\n3,NA,p\n2,12,q\n");
  options_.target = "label";
  core::Manifest inferred = data::convert(options_);
  EXPECT_EQ(inferred.extra["schema"]["columns"][0]["kind"], "numeric");
  EXPECT_FALSE(inferred.field("numeric").shape.empty());
  EXPECT_THROW(inferred.field("categorical"), Error);  // no categorical column: the field is left out

  options_.overwrite = true;
  options_.categorical = {"code"};
  options_.numeric = {"size"};
  core::Manifest m = data::convert(options_);
  const auto& code = m.extra["schema"]["columns"][0];
  EXPECT_EQ(code["kind"], "categorical");
  EXPECT_EQ(code["vocabulary"], (std::vector<std::string>{"<unknown>", "<missing>", "1", "2", "3"}));
  EXPECT_EQ(m.extra["schema"]["columns"][1]["kind"], "numeric");
  EXPECT_EQ(m.field("numeric").shape, (std::vector<int64_t>{2}));  // size and its indicator
  EXPECT_EQ(m.field("categorical").shape, (std::vector<int64_t>{1}));

  options_.categorical = {"nope"};
  EXPECT_THROW(data::convert(options_), UsageError);
  options_.categorical = {"size"};
  EXPECT_THROW(data::convert(options_), UsageError);  // both --categorical and --numeric
}

TEST_F(ConvertCsv, BadInputNamesFileAndLine) {
  struct Case {
    std::string csv, target, numeric, expect_where, expect_what;
  };
  const std::vector<Case> cases = {
      {"a,b,y\n1,2,p\n3,4\n", "y", "", "data.csv:3", "row has 2 fields, the header has 3"},
      // The record on lines 2-3 spans a quoted newline; the short row starts on line 4.
      {"a,b,y\n\"x\ny\",2,p\n3,4,q,9\n", "y", "", "data.csv:4", "row has 4 fields"},
      {"a,b,y\n1,2,p\n", "species", "", "data.csv:1", "target column 'species' is not in the header"},
      {"a,b,y\n1,2,p\n3,4,p\n", "y", "", "data.csv", "has only one class, 'p'"},
      {"a,b,y\n1,2,p\n3,4,q\n5,x7,p\n", "y", "b", "data.csv:4", "column 'b' is --numeric but holds 'x7'"},
      {"a,b,y\n1,2,p\n3,,\n", "y", "", "data.csv:3", "target column 'y' is empty"},
      {"a,b,y\n1,2,p\n3,\"4,q\n", "y", "", "data.csv:3", "never closed"},
      {"a,b,y\n1,\"2\"x,p\n", "y", "", "data.csv:2", "text after a closing quote"},
  };
  for (const auto& c : cases) {
    write_text(csv_, c.csv);
    options_.target = c.target;
    options_.numeric = c.numeric.empty() ? std::vector<std::string>{} : std::vector<std::string>{c.numeric};
    const std::string message = error_of(options_);
    EXPECT_NE(message.find(c.expect_where + ":"), std::string::npos) << message;
    EXPECT_NE(message.find(c.expect_what), std::string::npos) << message;
    EXPECT_FALSE(fs::exists(options_.output)) << "output created for: " << message;
  }
  options_.target = "";
  EXPECT_THROW(data::convert(options_), UsageError);
}

TEST_F(ConvertCsv, CommandLineAutoDetectsCsvAndInspectShowsSchema) {
  write_text(csv_, kSmallCsv);
  CLI::App app("strike");
  data::add_data_commands(app);
  std::vector<std::string> args = {"data", "convert", "--input", csv_, "--output", options_.output, "--target",
                                   "species", "--categorical", "width,height", "--max-categories", "9",
                                   "--val-fraction", "0", "--test-fraction", "0"};
  std::reverse(args.begin(), args.end());
  testing::internal::CaptureStdout();
  app.parse(args);
  testing::internal::GetCapturedStdout();
  core::Manifest m = core::Manifest::load(options_.output);
  EXPECT_EQ(m.source, "csv");
  EXPECT_EQ(m.extra["max_categories"], 9);
  EXPECT_EQ(m.extra["schema"]["columns"][0]["kind"], "categorical");
  EXPECT_EQ(m.extra["schema"]["columns"][1]["kind"], "categorical");
  EXPECT_THROW(m.field("numeric"), Error);

  std::ostringstream out;
  data::inspect(options_.output, out);
  EXPECT_NE(out.str().find("tabular_classification"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("target    species"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("color"), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find("\"vocabulary\""), std::string::npos) << out.str();
}

}  // namespace
}  // namespace strike

namespace strike {
namespace {

// What counts as a number in a numeric column, and what as missing.
TEST(TabularValues, NumbersAndMissingValues) {
  double v = 0;
  const std::vector<std::pair<std::string, double>> numbers = {
      {"1.5", 1.5}, {"+1.5", 1.5}, {" -2e3 ", -2000}, {"\t7\t", 7}, {"0", 0}, {".5", 0.5}, {"1e-400", 0.0}};
  for (const auto& [text, value] : numbers) {
    ASSERT_TRUE(data::parse_number(text, v)) << text;
    EXPECT_DOUBLE_EQ(v, value) << text;
  }
  for (const char* text : {"", " ", "NA", "abc", "1,5", "1.5x", "++1", "+-1", "-", "inf", "nan", "1e400", "0x10"}) {
    EXPECT_FALSE(data::parse_number(text, v)) << text;
  }
  for (const char* text : {"", "  ", "NA", " NA "}) EXPECT_TRUE(data::is_missing(text)) << text;
  for (const char* text : {"na", "N/A", "0", "x"}) EXPECT_FALSE(data::is_missing(text)) << text;
}

// Predict-time rows encode exactly like the converted training rows, in any column order.
TEST_F(ConvertCsv, PredictRowsEncodeLikeTheConversion) {
  write_text(csv_, kSmallCsv);
  core::Manifest m = data::convert(options_);
  const auto schema = data::TabularSchema::from_json(m.extra["schema"]);
  const std::string again = input_ / "again.csv";
  write_text(again, kSmallCsv);
  data::EncodedRows same = data::encode_csv_rows(schema, m.class_names, again);
  Rows rows = read_rows(m, options_.output, "train");
  using Row = std::tuple<int64_t, int64_t, int64_t, float, float, float>;
  std::vector<Row> expected, actual;
  for (size_t i = 0; i < rows.labels.size(); ++i) {
    expected.emplace_back(rows.labels[i], rows.categorical[i * 2], rows.categorical[i * 2 + 1], rows.numeric[i * 3],
                          rows.numeric[i * 3 + 1], rows.numeric[i * 3 + 2]);
  }
  ASSERT_EQ(same.rows(), 6);
  EXPECT_EQ(same.ids[0], again + ":2");
  EXPECT_EQ(same.ids[3], again + ":5");  // the record with a newline inside quotes starts on line 5
  for (int64_t i = 0; i < same.rows(); ++i) {
    actual.emplace_back(same.labels[i], same.categorical[i * 2], same.categorical[i * 2 + 1], same.numeric[i * 3],
                        same.numeric[i * 3 + 1], same.numeric[i * 3 + 2]);
  }
  std::sort(expected.begin(), expected.end());
  std::sort(actual.begin(), actual.end());
  EXPECT_EQ(actual, expected);
  EXPECT_EQ(same.unseen_values, 0);

  // Other column order, no target, an unseen color, a missing width.
  const std::string other = input_ / "other.csv";
  write_text(other, "note,color,width,height\nplain,purple,,9\n");
  data::EncodedRows row = data::encode_csv_rows(schema, m.class_names, other);
  ASSERT_EQ(row.rows(), 1);
  EXPECT_TRUE(row.labels.empty());
  EXPECT_EQ(row.categorical, (std::vector<int64_t>{data::kUnknownIndex, 3}));  // purple unseen; "plain" is 3
  EXPECT_EQ(row.unseen_values, 1);
  EXPECT_FLOAT_EQ(row.numeric[0], static_cast<float>((9 - 4.0) / std::sqrt(9.5)));
  EXPECT_FLOAT_EQ(row.numeric[1], 0.0f);  // the width's median, standardized
  EXPECT_FLOAT_EQ(row.numeric[2], 0.0f);  // height present: indicator 0
}

TEST_F(ConvertCsv, PredictRowsRefuseWhatTheModelCannotUse) {
  write_text(csv_, kSmallCsv);
  core::Manifest m = data::convert(options_);
  const auto schema = data::TabularSchema::from_json(m.extra["schema"]);
  const std::string path = input_ / "p.csv";
  auto error = [&](const std::string& text) {
    write_text(path, text);
    try {
      data::encode_csv_rows(schema, m.class_names, path);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string msg = error("height,width,color\n1,2,red\n");
  EXPECT_NE(msg.find("lacks column(s) 'note'"), std::string::npos) << msg;
  msg = error("height,width,color,note,shoe\n1,2,red,plain,42\n");
  EXPECT_NE(msg.find("'shoe'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not trained on"), std::string::npos) << msg;
  msg = error("height,width,color,note\n1,2,red,plain\nwide,2,red,plain\n");
  EXPECT_NE(msg.find(path + ":3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'wide'"), std::string::npos) << msg;
  msg = error("height,width,color,note\n1,2,red\n");
  EXPECT_NE(msg.find("3 fields"), std::string::npos) << msg;
  msg = error("height,width,color,note,species\n1,2,red,plain,a\n1,2,red,plain,d\n1,2,red,plain,e\n");
  EXPECT_NE(msg.find("2 row(s)"), std::string::npos) << msg;
  EXPECT_NE(msg.find(path + ":3 ('d')"), std::string::npos) << msg;
  msg = error("height,width,color,note\n");
  EXPECT_NE(msg.find("no rows"), std::string::npos) << msg;
}

}  // namespace
}  // namespace strike
