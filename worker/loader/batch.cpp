// Batch field lookup with an error that lists what the batch does hold, and the copy to a device.
#include "worker/loader/batch.h"

#include "core/error.h"

namespace strike::worker {

const torch::Tensor& Batch::at(const std::string& name) const {
  auto it = fields.find(name);
  if (it != fields.end()) return it->second;
  std::string present;
  for (const auto& [key, value] : fields) present += (present.empty() ? "" : ", ") + key;
  throw Error("batch has no field '" + name + "' (it has: " + present + ")", "", "check the task's input field names");
}

void Batch::move_to(torch::Device device) {
  if (device.is_cpu()) return;
  for (auto& [name, tensor] : fields) tensor = tensor.to(device);
}

}  // namespace strike::worker
