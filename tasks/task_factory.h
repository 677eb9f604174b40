// Builds a Task from ModelOptions and a dataset manifest; prints the registries for `strike list`.
#pragma once
#include "core/manifest.h"
#include "tasks/task.h"

#include <memory>
#include <ostream>
#include <string>

namespace strike::tasks {

// `options` with "auto" task and backbone replaced: the manifest's task (image_classification when it
// names none) and that task's default backbone.
ModelOptions resolve_model(ModelOptions options, const core::Manifest& manifest);

// Builds the resolved task. Image tasks take input channels and size from manifest.field("image").shape
// ({C, H, W}); tabular ones their columns from the "numeric"/"categorical" fields and manifest.extra["schema"];
// the class count comes from manifest.class_names. Unknown task/backbone/head/stem names throw UsageError
// listing the known ones.
std::unique_ptr<Task> make_task(const ModelOptions& options, const core::Manifest& manifest);

// Names of the tasks make_task builds.
std::vector<std::string> task_names();

// `strike list WHAT`: what = backbones, heads, optimizers, schedulers or tasks; anything else is a UsageError.
void print_registry(const std::string& what, std::ostream& out);

}  // namespace strike::tasks
