// Formatting of the manifest for people; `verify` is the command that checks the shards.
#include "dataset_tools/inspect.h"

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "core/manifest.h"
#include "core/shard.h"

namespace strike::data {

namespace fs = std::filesystem;

namespace {

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string human_bytes(int64_t bytes) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1);
  if (bytes >= (int64_t{1} << 30)) {
    s << bytes / double(int64_t{1} << 30) << " GiB";
  } else if (bytes >= (1 << 20)) {
    s << bytes / double(1 << 20) << " MiB";
  } else {
    s << bytes / 1024.0 << " KiB";
  }
  return s.str();
}

std::string numbers(const std::vector<double>& values) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(4);
  for (size_t i = 0; i < values.size(); ++i) s << (i ? " " : "") << values[i];
  return values.empty() ? "-" : s.str();
}

// Per-class counts of a split: recorded by convert; older datasets need their labels read.
std::vector<int64_t> class_counts(const core::Manifest& m, const core::SplitInfo& split, const std::string& dir) {
  if (m.extra.contains("class_counts") && m.extra["class_counts"].contains(split.name)) {
    return m.extra["class_counts"][split.name].get<std::vector<int64_t>>();
  }
  std::vector<int64_t> counts(m.class_names.size(), 0);
  const core::FieldSpec& label = m.field("label");
  for (const auto& shard : split.shards) {
    core::ShardReader reader((fs::path(dir) / shard.file).string(), {label});
    std::vector<int64_t> labels(static_cast<size_t>(reader.rows()));
    reader.read(label, 0, reader.rows(), labels.data());
    for (int64_t l : labels) {
      if (l >= 0 && l < static_cast<int64_t>(counts.size())) ++counts[l];
    }
  }
  return counts;
}

void print_classes(const core::Manifest& m, const std::string& dir, std::ostream& out) {
  out << "classes   " << m.class_names.size() << "\n";
  if (m.class_names.empty()) return;
  std::vector<std::vector<int64_t>> counts;
  for (const auto& split : m.splits) counts.push_back(class_counts(m, split, dir));
  size_t width = 4;
  for (const auto& name : m.class_names) width = std::max(width, name.size());
  out << "  " << std::setw(5) << "label" << "  " << std::left << std::setw(static_cast<int>(width)) << "name" << std::right;
  for (const auto& split : m.splits) out << std::setw(9) << split.name;
  out << "\n";
  for (size_t c = 0; c < m.class_names.size(); ++c) {
    out << "  " << std::setw(5) << c << "  " << std::left << std::setw(static_cast<int>(width)) << m.class_names[c]
        << std::right;
    for (const auto& split_counts : counts) out << std::setw(9) << (c < split_counts.size() ? split_counts[c] : 0);
    out << "\n";
  }
}

// Tabular datasets: one line per feature column, with what was fitted on the train split.
void print_schema(const nlohmann::json& schema, std::ostream& out) {
  out << "target    " << schema.value("target", "-") << "\n";
  out << "columns   " << schema.value("columns", nlohmann::json::array()).size() << "\n";
  for (const auto& c : schema.value("columns", nlohmann::json::array())) {
    out << "  " << std::left << std::setw(20) << c.value("name", "?") << std::setw(12) << c.value("kind", "?") << std::right;
    if (c.contains("vocabulary")) {
      const auto& vocabulary = c["vocabulary"];
      out << vocabulary.size() << " categories:";
      for (size_t i = 2; i < vocabulary.size() && i < 8; ++i) out << " " << vocabulary[i].get<std::string>();
      if (vocabulary.size() > 8) out << " ...";
    } else {
      const auto precision = out.precision();
      out << std::fixed << std::setprecision(4) << "median " << c.value("median", 0.0) << "  mean " << c.value("mean", 0.0)
          << "  std " << c.value("std", 1.0) << (c.value("has_missing", false) ? "  (missing: indicator)" : "");
      out.unsetf(std::ios::floatfield);
      out.precision(precision);
    }
    out << "\n";
  }
}

// Ragged fields (token ids): row lengths over every shard, read from the offsets alone.
void print_lengths(const core::Manifest& m, const core::FieldSpec& field, const std::string& dir, std::ostream& out) {
  int64_t rows = 0, total = 0, shortest = 0, longest = 0;
  std::vector<int64_t> offsets;
  for (const auto& split : m.splits) {
    for (const auto& shard : split.shards) {
      core::ShardReader reader((fs::path(dir) / shard.file).string(), {field});
      offsets.resize(static_cast<size_t>(reader.rows() + 1));
      reader.read_offsets(field, 0, reader.rows() + 1, offsets.data());
      for (int64_t i = 0; i < reader.rows(); ++i) {
        const int64_t length = offsets[i + 1] - offsets[i];
        shortest = rows == 0 ? length : std::min(shortest, length);
        longest = std::max(longest, length);
        total += length;
        ++rows;
      }
    }
  }
  out << "lengths   " << field.name << ": min " << shortest << "  mean " << std::fixed << std::setprecision(1)
      << (rows ? static_cast<double>(total) / rows : 0.0) << "  max " << longest << "  (" << total << " in all)\n";
  out.unsetf(std::ios::floatfield);
}

}  // namespace

void inspect(const std::string& dir, std::ostream& out) {
  core::Manifest m = core::Manifest::load(dir);
  out << "dataset   " << fs::absolute(dir).string() << "\n";
  out << "format    " << m.format_version << "\n";
  out << "task      " << m.task << "\n";
  out << "source    " << (m.source.empty() ? "-" : m.source) << "\n";
  size_t name_width = 8;  // "categorical" and other long field names still get a column of their own
  for (const auto& f : m.fields) name_width = std::max(name_width, f.name.size() + 1);
  for (size_t i = 0; i < m.fields.size(); ++i) {
    const auto& f = m.fields[i];
    out << (i ? "          " : "fields    ") << std::left << std::setw(static_cast<int>(name_width)) << f.name
        << std::setw(8) << f.dtype
        << std::right << "per sample " << shape_string(f.shape) << "\n";
  }
  for (const auto& f : m.fields) {
    if (f.ragged()) print_lengths(m, f, dir, out);
  }
  print_classes(m, dir, out);
  out << "splits\n";
  for (const auto& split : m.splits) {
    int64_t bytes = 0;
    for (const auto& shard : split.shards) bytes += shard.bytes;
    out << "  " << std::left << std::setw(6) << split.name << std::right << std::setw(9) << split.samples << " samples in "
        << split.shards.size() << " shard(s), " << human_bytes(bytes) << "\n";
    for (const auto& shard : split.shards) {
      out << "    " << shard.file << std::setw(9) << shard.samples << " samples  " << std::setw(10) << human_bytes(shard.bytes)
          << "  " << shard.checksum << "\n";
    }
  }
  out << "mean      " << numbers(m.mean) << "\n";
  out << "std       " << numbers(m.std) << "\n";
  nlohmann::json options = m.extra;
  options.erase("class_counts");
  if (options.contains("schema")) {
    print_schema(options["schema"], out);
    options.erase("schema");
  }
  if (!options.empty()) out << "options   " << options.dump() << "\n";
}

}  // namespace strike::data
