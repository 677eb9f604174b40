// make_task and print_registry: where every registry meets the command line.
#include "tasks/task_factory.h"

#include "core/error.h"
#include "tasks/backbones/backbone.h"
#include "tasks/heads/head.h"
#include "tasks/image_classifier.h"
#include "tasks/optim/optimizer.h"
#include "tasks/optim/scheduler.h"

#include <algorithm>

namespace strike::tasks {

namespace {

using TaskFactory = std::function<std::unique_ptr<Task>(const ModelOptions&, const core::Manifest&)>;

std::unique_ptr<Task> make_image_classifier(const ModelOptions& o, const core::Manifest& manifest) {
  const auto& shape = manifest.field("image").shape;
  if (shape.size() != 3) {
    throw Error("the 'image' field must have shape [C, H, W], found " + std::to_string(shape.size()) + " dimensions",
                "manifest.json", "convert the dataset again with `strike data convert`");
  }
  if (manifest.class_names.empty()) {
    throw Error("image_classification needs class names, the manifest has none", "manifest.json");
  }
  BackboneOptions b;
  b.in_channels = shape[0];
  b.image_size = std::min(shape[1], shape[2]);
  b.stem = o.stem;
  auto backbone = backbones().create(o.backbone, b);
  HeadOptions h;
  h.in_features = backbone->feature_dim();
  h.out_features = static_cast<int64_t>(manifest.class_names.size());
  h.dropout = o.dropout;
  auto head = heads().create(o.head, h);
  return std::make_unique<ImageClassifier>(std::move(backbone), std::move(head), h.out_features, o.label_smoothing);
}

const Registry<TaskFactory>& task_registry() {
  static const Registry<TaskFactory> registry("task", {
      {"image_classification", "images [C, H, W] -> one of N classes; cross-entropy, top-1/top-5 accuracy",
       make_image_classifier},
  });
  return registry;
}

}  // namespace

std::unique_ptr<Task> make_task(const ModelOptions& options, const core::Manifest& manifest) {
  return task_registry().create(options.task, options, manifest);
}

std::vector<std::string> task_names() { return task_registry().names(); }

void print_registry(const std::string& what, std::ostream& out) {
  if (what == "backbones") backbones().print(out);
  else if (what == "heads") heads().print(out);
  else if (what == "optimizers") optimizers().print(out);
  else if (what == "schedulers") schedulers().print(out);
  else if (what == "tasks") task_registry().print(out);
  else throw UsageError("unknown registry '" + what + "'; known: backbones, heads, optimizers, schedulers, tasks");
}

}  // namespace strike::tasks
