// manifest.json reading, validation and atomic writing.
#include "core/manifest.h"

#include <filesystem>
#include <fstream>
#include <numeric>

#include "core/checksum.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/h5.h"

namespace strike::core {

namespace fs = std::filesystem;

int64_t FieldSpec::element_bytes() const {
  return static_cast<int64_t>(h5::dtype_size(h5::dtype_from_string(dtype)));
}

int64_t FieldSpec::sample_bytes() const {
  if (ragged()) {
    throw Error("field '" + name + "' is ragged (one row of any length per sample) and has no fixed sample size", "",
                "read it with ShardReader::read_ragged; this reader does not support ragged fields yet");
  }
  int64_t n = std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<int64_t>());
  return n * static_cast<int64_t>(h5::dtype_size(h5::dtype_from_string(dtype)));
}

nlohmann::json Manifest::to_json() const {
  nlohmann::json j;
  j["format_version"] = format_version;
  j["task"] = task;
  j["source"] = source;
  j["fields"] = nlohmann::json::array();
  for (const auto& f : fields) j["fields"].push_back({{"name", f.name}, {"dtype", f.dtype}, {"shape", f.shape}});
  j["class_names"] = class_names;
  j["splits"] = nlohmann::json::object();
  for (const auto& s : splits) {
    nlohmann::json shards = nlohmann::json::array();
    for (const auto& sh : s.shards) {
      shards.push_back({{"file", sh.file}, {"samples", sh.samples}, {"bytes", sh.bytes}, {"checksum", sh.checksum}});
    }
    j["splits"][s.name] = {{"samples", s.samples}, {"shards", shards}};
  }
  j["statistics"] = {{"mean", mean}, {"std", std}};
  j["extra"] = extra;
  return j;
}

Manifest Manifest::from_json(const nlohmann::json& j, const std::string& where) {
  Manifest m;
  try {
    m.format_version = j.at("format_version").get<int>();
    if (m.format_version > kDatasetFormatVersion) {
      throw Error("dataset format version " + std::to_string(m.format_version) + " is newer than this strike (" +
                      std::to_string(kDatasetFormatVersion) + ")",
                  where, "upgrade strike or re-convert the dataset");
    }
    m.task = j.at("task").get<std::string>();
    m.source = j.value("source", "");
    for (const auto& f : j.at("fields")) {
      FieldSpec spec{f.at("name").get<std::string>(), f.at("dtype").get<std::string>(),
                     f.at("shape").get<std::vector<int64_t>>()};
      h5::dtype_from_string(spec.dtype);
      for (int64_t d : spec.shape) {
        if (d < 0 && !spec.ragged()) {
          throw Error("field '" + spec.name + "' has a negative size in its shape; only [-1] (ragged) may", where,
                      "re-convert the dataset");
        }
      }
      m.fields.push_back(spec);
    }
    m.class_names = j.value("class_names", std::vector<std::string>{});
    // Keep a fixed split order so iteration is deterministic and matches conversion.
    for (const char* name : {"train", "val", "test"}) {
      if (!j.at("splits").contains(name)) continue;
      const auto& s = j.at("splits").at(name);
      SplitInfo split{name, s.at("samples").get<int64_t>(), {}};
      int64_t total = 0;
      for (const auto& sh : s.at("shards")) {
        ShardInfo info{sh.at("file").get<std::string>(), sh.at("samples").get<int64_t>(), sh.value("bytes", int64_t{0}),
                       sh.value("checksum", "")};
        total += info.samples;
        split.shards.push_back(info);
      }
      if (total != split.samples) {
        throw Error("split '" + split.name + "' claims " + std::to_string(split.samples) + " samples but its shards hold " +
                        std::to_string(total),
                    where, "re-convert the dataset");
      }
      m.splits.push_back(split);
    }
    if (j.contains("statistics")) {
      m.mean = j["statistics"].value("mean", std::vector<double>{});
      m.std = j["statistics"].value("std", std::vector<double>{});
    }
    m.extra = j.value("extra", nlohmann::json::object());
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("malformed manifest: ") + e.what(), where, "re-convert the dataset with `strike data convert`");
  }
  return m;
}

Manifest Manifest::load(const std::string& dir) {
  fs::path path = fs::path(dir) / kManifestFile;
  if (!fs::is_directory(dir)) throw Error("dataset directory does not exist", dir, "create it with `strike data convert`");
  std::ifstream in(path);
  if (!in) throw Error("no manifest.json in the dataset directory", path.string(), "create it with `strike data convert`");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("manifest is not valid JSON: ") + e.what(), path.string(),
                "re-convert the dataset with `strike data convert`");
  }
  return from_json(j, path.string());
}

void Manifest::save(const std::string& dir) const {
  write_file_atomically((fs::path(dir) / kManifestFile).string(), to_json().dump(2) + "\n");
}

bool Manifest::has_split(const std::string& name) const {
  for (const auto& s : splits) if (s.name == name) return true;
  return false;
}

const SplitInfo& Manifest::split(const std::string& name) const {
  std::string present;
  for (const auto& s : splits) {
    if (s.name == name) return s;
    present += (present.empty() ? "" : ", ") + s.name;
  }
  throw UsageError("the dataset has no split '" + name + "'", "", "splits present: " + present);
}

const FieldSpec& Manifest::field(const std::string& name) const {
  std::string present;
  for (const auto& f : fields) {
    if (f.name == name) return f;
    present += (present.empty() ? "" : ", ") + f.name;
  }
  throw Error("the dataset has no field '" + name + "'", "", "fields present: " + present);
}

std::string Manifest::hash() const { return text_checksum(to_json().dump()); }

}  // namespace strike::core
