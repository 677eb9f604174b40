// The backbone registry: every backbone `strike list backbones` shows.
#include "tasks/backbones/backbone.h"

#include "tasks/backbones/resnet.h"
#include "tasks/backbones/small_cnn.h"

namespace strike::tasks {

const Registry<BackboneFactory>& backbones() {
  static const Registry<BackboneFactory> registry("backbone", {
      {"small_cnn", "3 conv layers + 256-d conv head, batch norm; fast on CPUs, for 28-64 px images",
       [](const BackboneOptions& o) { return std::make_shared<SmallCnn>(o); }},
      {"resnet18", "ResNet-18 (torchvision layout, 512-d features)",
       [](const BackboneOptions& o) { return std::make_shared<ResNet>(18, o); }},
      {"resnet34", "ResNet-34 (torchvision layout, 512-d features)",
       [](const BackboneOptions& o) { return std::make_shared<ResNet>(34, o); }},
      {"resnet50", "ResNet-50 (torchvision layout, 2048-d features)",
       [](const BackboneOptions& o) { return std::make_shared<ResNet>(50, o); }},
  });
  return registry;
}

}  // namespace strike::tasks
