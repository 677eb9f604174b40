// Text sources: lenient UTF-8 decoding, class folders of text files, and a CSV file's text and label columns.
#include "dataset_tools/text_source.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string_view>

#include "core/error.h"
#include "dataset_tools/csv_reader.h"
#include "dataset_tools/parallel.h"

namespace strike::data {

namespace fs = std::filesystem;

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one (overlong forms,
// surrogates and code points above U+10FFFF are invalid too).
size_t utf8_length(const std::string& s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return n;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text;
  if (in) {
    in.seekg(0, std::ios::end);
    text.resize(static_cast<size_t>(std::max<std::streamoff>(0, in.tellg())));
    in.seekg(0);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
  }
  if (!in && !in.eof()) {
    throw Error("cannot read the text file", path, "it was readable when the conversion started; check the disk");
  }
  return text;
}

// Class ids in sorted class-name order, so the same classes give the same labels whatever the input order.
std::vector<int64_t> sorted_ids(const std::vector<std::string>& names_by_first_seen, std::vector<std::string>& sorted) {
  sorted = names_by_first_seen;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> id(names_by_first_seen.size());
  for (size_t i = 0; i < id.size(); ++i) {
    id[i] = std::lower_bound(sorted.begin(), sorted.end(), names_by_first_seen[i]) - sorted.begin();
  }
  return id;
}

// Every class must keep a usable document, and a classifier needs two of them.
void check_classes(const std::vector<std::string>& class_names, const std::vector<int64_t>& class_sizes,
                   const std::string& input, const std::string& hint) {
  int64_t documents = 0;
  for (int64_t n : class_sizes) documents += n;
  if (documents == 0) throw Error("no usable text document found", input, hint);
  for (size_t c = 0; c < class_sizes.size(); ++c) {
    if (class_sizes[c] == 0) {
      throw Error("class '" + class_names[c] + "' has no usable document (all empty or unreadable)", input, hint);
    }
  }
  if (class_names.size() < 2) {
    throw Error("only one class, '" + class_names.front() + "'", input,
                "a classifier needs at least two classes: one sub-folder (or label value) per class");
  }
}

Error changed_input(const std::string& where) {
  return Error("the input changed while it was being converted", where,
               "convert files nobody writes to, then run the conversion again");
}

class TextFolderSource : public TextSource {
 public:
  explicit TextFolderSource(const ConvertOptions& o) {
    if (!fs::is_directory(o.input)) {
      throw Error("the input directory does not exist", o.input, "pass --input DIR with one sub-folder of text files per class");
    }
    std::vector<std::string> folders;
    for (const auto& entry : fs::directory_iterator(o.input)) {
      const std::string name = entry.path().filename().string();
      if (entry.is_directory() && name[0] != '.') folders.push_back(name);
    }
    std::sort(folders.begin(), folders.end());
    if (folders.empty()) {
      throw Error("the input directory has no sub-folders", o.input, "put the text files of each class in a folder named after it");
    }
    const std::map<std::string, std::string> mapped = parse_label_map(o.label_map, folders);
    std::vector<std::string> first_seen;
    std::vector<size_t> class_of_folder;
    for (const auto& folder : folders) {
      auto it = mapped.find(folder);
      const std::string name = it == mapped.end() ? folder : it->second;
      auto at = std::find(first_seen.begin(), first_seen.end(), name);
      class_of_folder.push_back(static_cast<size_t>(at - first_seen.begin()));
      if (at == first_seen.end()) first_seen.push_back(name);
    }
    const std::vector<int64_t> id = sorted_ids(first_seen, class_names_);
    class_sizes_.assign(class_names_.size(), 0);

    for (size_t f = 0; f < folders.size(); ++f) {
      const Folder folder{(fs::path(o.input) / folders[f]).string(), id[class_of_folder[f]], documents()};
      std::vector<std::string> files;  // names only; the folder's path is kept once
      for (const auto& entry : fs::directory_iterator(folder.path)) {
        // A dangling link is kept so that it is reported as unreadable rather than silently missing.
        const bool file = entry.is_regular_file() || entry.is_symlink();
        const std::string name = entry.path().filename().string();
        if (name[0] != '.' && file) files.push_back(name);
      }
      std::sort(files.begin(), files.end());
      for (const auto& name : files) {
        const std::string path = folder.path + "/" + name;
        std::error_code ec;
        const auto size = fs::file_size(path, ec);
        if (ec || !std::ifstream(path, std::ios::binary)) {
          if (!skipped_.unreadable++) skipped_.unreadable_example = path;
        } else if (size == 0) {
          if (!skipped_.empty++) skipped_.empty_example = path;
        } else {
          names_ += name;
          name_end_.push_back(names_.size());
          ++class_sizes_[static_cast<size_t>(folder.label)];
          bytes_ += static_cast<int64_t>(size);
        }
      }
      folders_.push_back(folder);
    }
    names_.shrink_to_fit();
    name_end_.shrink_to_fit();
    check_classes(class_names_, class_sizes_, o.input, "put non-empty, readable text files in every class folder");
  }

  std::string kind() const override { return "text_folder"; }
  const std::vector<std::string>& class_names() const override { return class_names_; }
  const std::vector<int64_t>& class_sizes() const override { return class_sizes_; }
  int64_t bytes() const override { return bytes_; }
  const SkippedDocuments& skipped() const override { return skipped_; }

  void read(const std::function<bool(const DocumentRef&)>& keep, int64_t batch_bytes,
            const std::function<bool(TextBatch&)>& on_batch) const override {
    TextBatch batch;
    const auto flush = [&] {
      const int64_t count = static_cast<int64_t>(batch.index.size());
      batch.text.resize(static_cast<size_t>(count));
      batch.repaired.resize(static_cast<size_t>(count));
      parallel_for(count, decode_threads(), [&](int64_t k) {
        batch.text[k] = read_file(batch.where[k]);
        batch.repaired[k] = repair_utf8(batch.text[k]);
      });
      const bool more = on_batch(batch);
      batch.clear();
      return more;
    };
    const int64_t n = static_cast<int64_t>(name_end_.size());
    int64_t bytes = 0;
    size_t f = 0;
    for (int64_t i = 0; i < n; ++i) {
      while (f + 1 < folders_.size() && folders_[f + 1].first <= i) ++f;
      const size_t begin = i == 0 ? 0 : name_end_[static_cast<size_t>(i - 1)];
      std::string path = folders_[f].path + "/" + names_.substr(begin, name_end_[static_cast<size_t>(i)] - begin);
      std::error_code ec;
      const auto size = fs::file_size(path, ec);
      if (ec) throw changed_input(path);
      const DocumentRef doc{i, folders_[f].label, static_cast<int64_t>(size)};
      if (!keep(doc)) continue;
      batch.index.push_back(i);
      batch.label.push_back(doc.label);
      batch.where.push_back(std::move(path));
      bytes += doc.bytes;
      if (bytes >= batch_bytes) {
        if (!flush()) return;
        bytes = 0;
      }
    }
    if (!batch.index.empty()) flush();
  }

 private:
  // "--label-map a=x,b=x": folders a and b become one class x; folders not named keep their name.
  static std::map<std::string, std::string> parse_label_map(const std::vector<std::string>& entries,
                                                            const std::vector<std::string>& folders) {
    std::map<std::string, std::string> mapped;
    for (const auto& entry : entries) {
      const size_t eq = entry.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size()) {
        throw UsageError("--label-map entry '" + entry + "' is not FOLDER=CLASS", "", "e.g. --label-map spam-1=spam,spam-2=spam");
      }
      const std::string folder = entry.substr(0, eq);
      if (!std::count(folders.begin(), folders.end(), folder)) {
        std::string present;
        for (const auto& f : folders) present += (present.empty() ? "" : ", ") + f;
        throw UsageError("--label-map names the folder '" + folder + "', which is not in the input", "",
                         "the folders are " + present);
      }
      if (!mapped.emplace(folder, entry.substr(eq + 1)).second) {
        throw UsageError("--label-map names the folder '" + folder + "' twice", "", "map each folder once");
      }
    }
    return mapped;
  }

  // A class folder; its usable documents are [first, the next folder's first).
  struct Folder {
    std::string path;
    int64_t label = 0;
    int64_t first = 0;
  };
  std::vector<std::string> class_names_;
  std::vector<int64_t> class_sizes_;
  int64_t bytes_ = 0;
  std::vector<Folder> folders_;
  // File names back to back, and where each ends: a path per document would be several times larger.
  std::string names_;
  std::vector<size_t> name_end_;
  SkippedDocuments skipped_;
};

class TextCsvSource : public TextSource {
 public:
  explicit TextCsvSource(const ConvertOptions& o) : path_(o.input) {
    if (!fs::is_regular_file(o.input)) throw Error("the CSV file does not exist", o.input, "check the --input path");
    CsvReader reader(o.input);
    std::vector<std::string> fields;
    if (!reader.next(fields)) throw Error("the CSV file is empty", o.input, "the first row must name the columns");
    columns_ = fields.size();
    text_ = column(fields, o.text_column, "--text-column", reader);
    label_ = column(fields, o.target, "--target", reader);
    if (text_ == label_) throw UsageError("--text-column and --target name the same column '" + o.target + "'");
    std::map<std::string, int64_t, std::less<>> count_by_label;  // sorted by value: the class ids
    std::vector<std::string_view> row;
    while (reader.next(row)) {
      if (row.size() != columns_) {
        throw Error("row has " + std::to_string(row.size()) + " fields, the header has " + std::to_string(columns_),
                    reader.where(), "quote fields that contain commas, newlines or quotes (a quote inside is written \"\")");
      }
      if (row[text_].empty()) {
        if (!skipped_.empty++) skipped_.empty_example = reader.where();
        continue;
      }
      if (row[label_].empty()) {
        throw Error("the label column '" + o.target + "' is empty", reader.where(), "give every row a label or remove it");
      }
      auto it = count_by_label.find(row[label_]);
      if (it == count_by_label.end()) it = count_by_label.emplace(std::string(row[label_]), 0).first;
      ++it->second;
      bytes_ += static_cast<int64_t>(row[text_].size());
    }
    for (const auto& [name, count] : count_by_label) {
      label_id_.emplace(name, static_cast<int64_t>(class_names_.size()));
      class_names_.push_back(name);
      class_sizes_.push_back(count);
    }
    check_classes(class_names_, class_sizes_, o.input,
                  "rows need a non-empty text and a label; check --text-column and --target");
  }

  std::string kind() const override { return "text_csv"; }
  const std::vector<std::string>& class_names() const override { return class_names_; }
  const std::vector<int64_t>& class_sizes() const override { return class_sizes_; }
  int64_t bytes() const override { return bytes_; }
  const SkippedDocuments& skipped() const override { return skipped_; }

  // One sequential pass over the file: a CSV record's position is only known by reading up to it. The
  // rows and class sizes are checked against what opening the file counted, so a file that gained,
  // lost or relabelled rows is an error, not a shifted dataset (rows that trade labels go unnoticed).
  void read(const std::function<bool(const DocumentRef&)>& keep, int64_t batch_bytes,
            const std::function<bool(TextBatch&)>& on_batch) const override {
    CsvReader reader(path_);
    std::vector<std::string_view> row;  // views into the reader's buffer: a kept text is copied once, to its size
    reader.next(row);
    TextBatch batch;
    const int64_t documents = this->documents();
    int64_t bytes = 0, document = 0;
    std::vector<int64_t> seen(class_sizes_.size(), 0);  // per class: more than when opened means a changed file
    while (reader.next(row)) {
      if (row.size() != columns_) throw changed_input(reader.where());
      if (row[text_].empty()) continue;
      const auto label = label_id_.find(row[label_]);
      if (label == label_id_.end() || document == documents) throw changed_input(reader.where());
      const size_t c = static_cast<size_t>(label->second);
      if (++seen[c] > class_sizes_[c]) throw changed_input(reader.where());
      const DocumentRef doc{document++, label->second, static_cast<int64_t>(row[text_].size())};
      if (!keep(doc)) continue;
      batch.index.push_back(doc.index);
      batch.label.push_back(doc.label);
      batch.where.push_back(reader.where());
      batch.text.emplace_back(row[text_]);
      batch.repaired.push_back(repair_utf8(batch.text.back()));
      bytes += doc.bytes;
      if (bytes >= batch_bytes) {
        if (!on_batch(batch)) return;
        batch.clear();
        bytes = 0;
      }
    }
    if (document != documents) throw changed_input(path_);
    if (!batch.index.empty()) on_batch(batch);
  }

 private:
  static size_t column(const std::vector<std::string>& header, const std::string& name, const char* flag,
                       const CsvReader& reader) {
    auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) {
      std::string present;
      for (const auto& h : header) present += (present.empty() ? "'" : ", '") + h + "'";
      throw UsageError(std::string(flag) + " names '" + name + "', which is not a column", reader.where(),
                       "the columns are " + present);
    }
    return static_cast<size_t>(it - header.begin());
  }

  std::string path_;
  size_t columns_ = 0, text_ = 0, label_ = 0;
  std::vector<std::string> class_names_;
  std::vector<int64_t> class_sizes_;
  std::map<std::string, int64_t, std::less<>> label_id_;
  int64_t bytes_ = 0;
  SkippedDocuments skipped_;
};

}  // namespace

bool repair_utf8(std::string& text) {
  size_t i = 0;
  while (i < text.size()) {
    const size_t n = utf8_length(text, i);
    if (n == 0) break;
    i += n;
  }
  if (i == text.size()) return false;  // the common case: valid, untouched
  std::string out(text, 0, i);
  out.reserve(text.size() + text.size() / 8);
  while (i < text.size()) {
    const size_t n = utf8_length(text, i);
    if (n > 0) {
      out.append(text, i, n);
      i += n;
    } else {
      const unsigned char c = static_cast<unsigned char>(text[i++]);
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  text = std::move(out);
  return true;
}

int64_t TextSource::documents() const {
  int64_t n = 0;
  for (int64_t size : class_sizes()) n += size;
  return n;
}

bool is_text_source(const std::string& kind) { return kind == "text_folder" || kind == "text_csv"; }

std::unique_ptr<TextSource> open_text_source(const ConvertOptions& options) {
  if (options.source == "text_csv") return std::make_unique<TextCsvSource>(options);
  if (options.source == "text_folder") return std::make_unique<TextFolderSource>(options);
  throw UsageError("'" + options.source + "' is not a text source", "", "pass --source text_folder or text_csv");
}

}  // namespace strike::data
