// make_task and print_registry: where every registry meets the command line.
#include "tasks/task_factory.h"

#include "core/error.h"
#include "tasks/backbones/backbone.h"
#include "tasks/backbones/tabular_backbone.h"
#include "tasks/heads/head.h"
#include "tasks/image_classifier.h"
#include "tasks/image_embedder.h"
#include "tasks/optim/optimizer.h"
#include "tasks/optim/scheduler.h"
#include "tasks/tabular_classifier.h"
#include "tasks/text_classifier.h"
#include "tasks/backbones/text_backbone.h"

#include <algorithm>
#include <map>

namespace strike::tasks {

namespace {

using TaskFactory = std::function<std::unique_ptr<Task>(const ModelOptions&, const core::Manifest&)>;

std::shared_ptr<Head> make_head(const ModelOptions& o, int64_t features, const core::Manifest& manifest) {
  HeadOptions h;
  h.in_features = features;
  h.out_features = static_cast<int64_t>(manifest.class_names.size());
  h.dropout = o.dropout;
  return heads().create(o.head, h);
}

// The image backbone for the manifest's image shape.
std::shared_ptr<Backbone> make_image_backbone(const ModelOptions& o, const core::Manifest& manifest) {
  const auto& shape = manifest.field("image").shape;
  if (shape.size() != 3) {
    throw Error("the 'image' field must have shape [C, H, W], found " + std::to_string(shape.size()) + " dimensions",
                "manifest.json", "convert the dataset again with `strike data convert`");
  }
  BackboneOptions b;
  b.in_channels = shape[0];
  b.image_size = std::min(shape[1], shape[2]);
  b.stem = o.stem;
  return backbones().create(o.backbone, b);
}

std::unique_ptr<Task> make_image_classifier(const ModelOptions& o, const core::Manifest& manifest) {
  if (manifest.class_names.empty()) {
    throw Error("image_classification needs class names, the manifest has none", "manifest.json");
  }
  auto backbone = make_image_backbone(o, manifest);
  auto head = make_head(o, backbone->feature_dim(), manifest);
  const auto classes = static_cast<int64_t>(manifest.class_names.size());
  return std::make_unique<ImageClassifier>(std::move(backbone), std::move(head), classes, o.label_smoothing);
}

// Column widths from the shard fields; each categorical column's vocabulary size from the schema that
// `strike data convert` fitted on the train split.
TabularBackboneOptions tabular_columns(const core::Manifest& manifest) {
  TabularBackboneOptions t;
  int64_t categorical = 0;
  for (const auto& f : manifest.fields) {
    if (f.name == "numeric") t.numeric_features = f.shape.empty() ? 0 : f.shape[0];
    if (f.name == "categorical") categorical = f.shape.empty() ? 0 : f.shape[0];
  }
  t.category_sizes.assign(static_cast<size_t>(categorical), 0);
  const nlohmann::json& columns = manifest.extra.value("schema", nlohmann::json::object()).value("columns", nlohmann::json::array());
  for (const auto& c : columns) {
    if (c.value("kind", "") != "categorical") continue;
    const int64_t at = c.value("position", int64_t{-1});
    if (at < 0 || at >= categorical) {
      throw Error("schema column '" + c.value("name", "?") + "' has position " + std::to_string(at) +
                      " outside the categorical field's " + std::to_string(categorical) + " columns",
                  "manifest.json", "convert the CSV again with `strike data convert`");
    }
    t.category_sizes[at] = static_cast<int64_t>(c.value("vocabulary", nlohmann::json::array()).size());
  }
  for (size_t c = 0; c < t.category_sizes.size(); ++c) {
    if (t.category_sizes[c] < 2) {
      throw Error("categorical column " + std::to_string(c) + " has no vocabulary in manifest.extra.schema",
                  "manifest.json", "convert the CSV again with `strike data convert`");
    }
  }
  if (t.numeric_features + categorical == 0) {
    throw Error("tabular_classification needs a 'numeric' or 'categorical' field, the manifest has neither",
                "manifest.json", "convert a CSV with `strike data convert --target COLUMN`");
  }
  return t;
}

std::unique_ptr<Task> make_tabular_classifier(const ModelOptions& o, const core::Manifest& manifest) {
  if (manifest.class_names.empty()) {
    throw Error("tabular_classification needs class names, the manifest has none", "manifest.json");
  }
  auto backbone = tabular_backbones().create(o.backbone, tabular_columns(manifest));
  auto head = make_head(o, backbone->feature_dim(), manifest);
  const auto classes = static_cast<int64_t>(manifest.class_names.size());
  return std::make_unique<TabularClassifier>(std::move(backbone), std::move(head), classes, o.label_smoothing);
}

// Vocabulary, padding id and longest row from the tokenizer record `strike data convert` wrote.
TextBackboneOptions text_vocabulary(const core::Manifest& manifest) {
  const nlohmann::json& tokenizer = manifest.extra.value("tokenizer", nlohmann::json::object());
  if (!tokenizer.contains("pieces")) {
    throw Error("text_classification needs the dataset's tokenizer record (extra.tokenizer), the manifest has none",
                "manifest.json", "convert the text with `strike data convert --source text_folder|text_csv`");
  }
  TextBackboneOptions t;
  t.vocab_size = tokenizer.at("pieces").get<int64_t>();
  t.pad_id = tokenizer.value("pad_id", int64_t{0});
  t.max_tokens = manifest.extra.value("max_tokens", int64_t{512});
  return t;
}

std::unique_ptr<Task> make_text_classifier(const ModelOptions& o, const core::Manifest& manifest) {
  if (manifest.class_names.size() < 2) {
    throw Error("text_classification needs at least two classes, the manifest has " +
                    std::to_string(manifest.class_names.size()),
                "manifest.json");
  }
  auto backbone = text_backbones().create(o.backbone, text_vocabulary(manifest));
  auto head = make_head(o, backbone->feature_dim(), manifest);
  return std::make_unique<TextClassifier>(std::move(backbone), std::move(head), manifest.class_names, o.label_smoothing);
}

std::unique_ptr<Task> make_image_embedder(const ModelOptions& o, const core::Manifest& manifest) {
  EmbedderOptions e;
  e.dim = o.embedding_dim;
  e.objective = o.objective;
  e.num_classes = static_cast<int64_t>(manifest.class_names.size());
  return std::make_unique<ImageEmbedder>(make_image_backbone(o, manifest), e);
}

// Task name -> its default backbone.
const std::map<std::string, std::string>& default_backbones() {
  static const std::map<std::string, std::string> defaults = {{"image_classification", "small_cnn"},
                                                              {"image_embedding", "small_cnn"},
                                                              {"tabular_classification", "mlp"},
                                                              {"text_classification", "bag_of_embeddings"}};
  return defaults;
}

const Registry<TaskFactory>& task_registry() {
  static const Registry<TaskFactory> registry("task", {
      {"image_classification", "images [C, H, W] -> one of N classes; cross-entropy, top-1/top-5 accuracy",
       make_image_classifier},
      {"image_embedding", "images -> unit-length embeddings (--embedding-dim); supervised or simclr --objective; kNN eval",
       make_image_embedder},
      {"tabular_classification", "CSV rows (numeric + categorical columns) -> one of N classes; cross-entropy, accuracy",
       make_tabular_classifier},
      {"text_classification", "token ids -> one of N classes; cross-entropy, accuracy, per-class precision/recall/F1, macro F1",
       make_text_classifier},
  });
  return registry;
}

}  // namespace

ModelOptions resolve_model(ModelOptions options, const core::Manifest& manifest) {
  if (options.task == "auto") options.task = manifest.task.empty() ? "image_classification" : manifest.task;
  if (options.backbone == "auto") {
    auto it = default_backbones().find(options.task);
    options.backbone = it == default_backbones().end() ? "small_cnn" : it->second;
  }
  return options;
}

std::unique_ptr<Task> make_task(const ModelOptions& options, const core::Manifest& manifest) {
  const ModelOptions o = resolve_model(options, manifest);
  return task_registry().create(o.task, o, manifest);
}

std::vector<std::string> task_names() { return task_registry().names(); }

void print_registry(const std::string& what, std::ostream& out) {
  if (what == "backbones") {
    backbones().print(out);
    tabular_backbones().print(out);
    text_backbones().print(out);
  }
  else if (what == "heads") heads().print(out);
  else if (what == "optimizers") optimizers().print(out);
  else if (what == "schedulers") schedulers().print(out);
  else if (what == "tasks") task_registry().print(out);
  else throw UsageError("unknown registry '" + what + "'; known: backbones, heads, optimizers, schedulers, tasks");
}

}  // namespace strike::tasks
