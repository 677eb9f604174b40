// `predict`: preprocesses inputs exactly like conversion did, runs the model, writes CSV or JSON.
#include "worker/predict_command.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/fs.h"
#include "core/image.h"
#include "dataset_tools/tabular_rows.h"
#include "worker/input_files.h"
#include "worker/loader/loader.h"
#include "worker/text_documents.h"
#include "worker/train_command.h"
#include "worker/trained_model.h"

namespace strike::worker {

namespace fs = std::filesystem;

namespace {

bool is_image_file(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// The same pipeline as `strike data convert` followed by the loader's normalization.
torch::Tensor load_image(const std::string& path, const core::Manifest& manifest) {
  const auto& shape = manifest.field("image").shape;  // C, H, W
  core::Image image = core::to_channels(core::decode_image(path), shape[0]);
  if (image.height != shape[1] || image.width != shape[2]) image = core::resize_bilinear(image, shape[1], shape[2]);
  auto tensor = torch::from_blob(image.pixels.data(), {shape[0], shape[1], shape[2]}, torch::kUInt8).to(torch::kFloat32);
  tensor.div_(255.0);
  for (int64_t c = 0; c < shape[0]; ++c) {
    double mean = c < static_cast<int64_t>(manifest.mean.size()) ? manifest.mean[c] : 0.0;
    double std = c < static_cast<int64_t>(manifest.std.size()) ? manifest.std[c] : 1.0;
    tensor[c].sub_(mean).div_(std > 0 ? std : 1.0);
  }
  return tensor;
}

struct Rows {
  std::vector<std::string> ids;
  std::vector<torch::Tensor> values;  // per batch: labels [B] or scores [B, classes]
  std::vector<torch::Tensor> truth;   // per batch: true labels where known
};

// Image files and folders: decoded, resized and normalized like the training images.
void predict_images(const PredictOptions& o, TrainedModel& model, Rows& rows) {
  auto files = expand_inputs(o.inputs, is_image_file, "PNG or JPEG files");
  if (o.limit > 0 && static_cast<int64_t>(files.size()) > o.limit) files.resize(o.limit);
  for (size_t start = 0; start < files.size(); start += o.batch_size) {
    size_t end = std::min(files.size(), start + static_cast<size_t>(o.batch_size));
    std::vector<torch::Tensor> images;
    for (size_t i = start; i < end; ++i) {
      images.push_back(load_image(files[i], model.manifest));
      rows.ids.push_back(files[i]);
    }
    tasks::TensorMap batch{{"image", torch::stack(images)}};
    rows.values.push_back(model.task->predict(model.task->forward(batch), o.kind));
  }
}

// CSV files: every row encoded with the schema fitted at conversion; the target column, if present,
// becomes true_label.
void predict_csv_rows(const PredictOptions& o, TrainedModel& model, Rows& rows) {
  const auto schema = data::TabularSchema::from_json(model.manifest.extra.at("schema"));
  bool every_file_has_target = true;
  for (const auto& input : o.inputs) {
    if (fs::is_directory(input)) throw UsageError("a tabular model predicts CSV files, not folders", input);
    data::EncodedRows encoded = data::encode_csv_rows(schema, model.manifest.class_names, input);
    if (encoded.unseen_values > 0) {
      spdlog::warn("{}: {} categorical value(s) were not seen in training and count as <unknown>", input,
                   encoded.unseen_values);
    }
    every_file_has_target = every_file_has_target && !encoded.labels.empty();
    int64_t n = encoded.rows();
    if (o.limit > 0) n = std::min<int64_t>(n, o.limit - static_cast<int64_t>(rows.ids.size()));
    const int64_t nw = schema.numeric_width(), cw = schema.categorical_width();
    for (int64_t start = 0; start < n; start += o.batch_size) {
      const int64_t b = std::min<int64_t>(o.batch_size, n - start);
      tasks::TensorMap batch;
      if (nw > 0) batch["numeric"] = torch::from_blob(encoded.numeric.data() + start * nw, {b, nw}, torch::kFloat32);
      if (cw > 0) batch["categorical"] = torch::from_blob(encoded.categorical.data() + start * cw, {b, cw}, torch::kInt64);
      rows.values.push_back(model.task->predict(model.task->forward(batch), o.kind));
      if (!encoded.labels.empty()) {
        rows.truth.push_back(torch::from_blob(encoded.labels.data() + start, {b}, torch::kInt64).clone());
      }
      rows.ids.insert(rows.ids.end(), encoded.ids.begin() + start, encoded.ids.begin() + start + b);
    }
    if (o.limit > 0 && static_cast<int64_t>(rows.ids.size()) >= o.limit) break;
  }
  // true_label is a column of the whole output: only when every file has the target.
  if (!every_file_has_target) rows.truth.clear();
}

// Text files and folders: decoded and tokenized like the training documents, with the tokenizer the
// checkpoint carries (or, for a checkpoint without it, the dataset's).
void predict_texts(const PredictOptions& o, TrainedModel& model, Rows& rows) {
  const auto& record = model.manifest.extra.value("tokenizer", nlohmann::json::object());
  const std::string name = record.value("file", "tokenizer.model");
  auto asset = model.assets.find(name);
  const std::string serialized = asset != model.assets.end() ? asset->second : model_assets(model.data, model.manifest).at(name);
  const data::Tokenizer tokenizer = data::Tokenizer::from_model(serialized);
  const int64_t pad = record.value("pad_id", int64_t{0});
  bool every_label_known = true;  // true_label is a column of the whole output
  const TextDocuments counts =
      read_text_documents(o.inputs, tokenizer, model.manifest, o.limit, o.batch_size, [&](const TextDocuments& batch) {
        auto tokens = pad_token_batch(batch.tokens, 0, batch.tokens.size(), pad);
        rows.values.push_back(model.task->predict(model.task->forward(tokens), o.kind));
        every_label_known = every_label_known && batch.every_label_known();
        if (every_label_known) rows.truth.push_back(torch::tensor(batch.labels));
        rows.ids.insert(rows.ids.end(), batch.ids.begin(), batch.ids.end());
      });
  if (!every_label_known) rows.truth.clear();
  if (counts.empty) spdlog::warn("skipped {} empty file(s), e.g. {}", counts.empty, counts.empty_example);
  if (counts.repaired) spdlog::info("{} file(s) were not valid UTF-8; stray bytes were read as Latin-1", counts.repaired);
}

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

void write_rows(const Rows& rows, const PredictOptions& o, const std::vector<std::string>& classes) {
  // One contiguous CPU copy, read through raw pointers: no tensor op per row.
  bool labels = o.kind == "labels";
  auto values = torch::cat(rows.values).contiguous().to(labels ? torch::kInt64 : torch::kFloat32);
  auto truth = rows.truth.empty() ? torch::Tensor() : torch::cat(rows.truth).contiguous().to(torch::kInt64);
  int64_t width = labels ? 1 : values.size(1);
  auto label_at = [&](const torch::Tensor& t, size_t i) {
    int64_t label = t.data_ptr<int64_t>()[i];
    return label >= 0 && label < static_cast<int64_t>(classes.size()) ? classes[label] : std::to_string(label);
  };
  auto scores_at = [&](size_t i) {
    const float* begin = values.data_ptr<float>() + static_cast<int64_t>(i) * width;
    return std::vector<float>(begin, begin + width);
  };
  bool json = o.output.size() >= 5 && o.output.substr(o.output.size() - 5) == ".json";
  std::ostringstream out;
  out.precision(6);
  if (json) {
    nlohmann::json array = nlohmann::json::array();
    for (size_t i = 0; i < rows.ids.size(); ++i) {
      nlohmann::json row = {{"id", rows.ids[i]}};
      if (labels) {
        row["label"] = label_at(values, i);
        row["label_index"] = values.data_ptr<int64_t>()[i];
      } else {
        row[o.kind] = scores_at(i);
      }
      if (truth.defined()) row["true_label"] = label_at(truth, i);
      array.push_back(row);
    }
    out << nlohmann::json{{"kind", o.kind}, {"classes", classes}, {"predictions", array}}.dump(2) << "\n";
  } else {
    out << "id";
    if (labels) out << ",label";
    else for (const auto& c : classes) out << "," << csv_escape(c);
    if (truth.defined()) out << ",true_label";
    out << "\n";
    for (size_t i = 0; i < rows.ids.size(); ++i) {
      out << csv_escape(rows.ids[i]);
      if (labels) out << "," << csv_escape(label_at(values, i));
      else for (float score : scores_at(i)) out << "," << score;
      if (truth.defined()) out << "," << csv_escape(label_at(truth, i));
      out << "\n";
    }
  }
  if (o.output.empty()) std::cout << out.str();
  else core::write_file_atomically(o.output, out.str());
}

}  // namespace

void add_predict_options(CLI::App& app, PredictOptions& o) {
  app.add_option("--checkpoint", o.checkpoint, "Checkpoint to predict with")->required();
  app.add_option("inputs,--input", o.inputs, "Image files and/or folders of images; CSV files for a tabular model; text files and/or folders for a text model");
  app.add_option("--data", o.data, "Or: a dataset directory ...");
  app.add_option("--split", o.split, "... and the split to predict");
  app.add_option("--limit", o.limit, "Predict at most this many samples (0: all)")->check(CLI::NonNegativeNumber);
  app.add_option("--kind", o.kind, "Output: labels, probabilities or logits")
      ->check(CLI::IsMember({"labels", "probabilities", "logits"}));
  app.add_option("--output", o.output, "Write to a .csv or .json file (empty: CSV on stdout)");
  app.add_option("--batch-size", o.batch_size, "Samples per forward pass")->check(CLI::PositiveNumber);
  app.add_option("--threads", o.threads, "Intra-op threads (0: all cores)")->check(CLI::NonNegativeNumber);
}

int run_predict(const PredictOptions& o) {
  require(o.inputs.empty() != o.data.empty(), "give either image files/folders or --data DIR (not both, not neither)");
  torch::set_num_threads(choose_threads(o.threads, 1));
  TrainedModel model = load_trained_model(o.checkpoint);
  torch::NoGradGuard no_grad;
  Rows rows;
  if (!o.inputs.empty() && model.task->name() == "tabular_classification") {
    predict_csv_rows(o, model, rows);
  } else if (!o.inputs.empty() && model.task->name() == "text_classification") {
    predict_texts(o, model, rows);
  } else if (!o.inputs.empty()) {
    predict_images(o, model, rows);
  } else {
    LoaderOptions l;
    l.batch_size = o.batch_size;
    l.shuffle = false;
    l.drop_last = false;
    DataLoader loader(o.data, o.split, 0, 1, l);
    loader.start_epoch(0);
    Batch batch;
    int64_t done = 0;
    while ((o.limit == 0 || done < o.limit) && loader.next(batch)) {
      if (batch.size == 0) continue;
      int64_t take = o.limit > 0 ? std::min(batch.size, o.limit - done) : batch.size;
      tasks::TensorMap fields;
      for (const auto& [k, v] : batch.fields) fields[k] = v.narrow(0, 0, take);
      rows.values.push_back(model.task->predict(model.task->forward(fields), o.kind));
      rows.truth.push_back(fields.at("label"));
      auto index = fields.at("index").contiguous();
      const int64_t* rows_in_split = index.data_ptr<int64_t>();
      for (int64_t i = 0; i < take; ++i) rows.ids.push_back(o.split + ":" + std::to_string(rows_in_split[i]));
      done += take;
    }
  }
  require(!rows.ids.empty(), "nothing to predict");
  write_rows(rows, o, model.manifest.class_names);
  return kExitOk;
}

}  // namespace strike::worker
