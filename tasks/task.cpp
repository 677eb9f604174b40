// MetricSums: exact reduction of metrics across batches and ranks.
#include "tasks/task.h"

namespace strike::tasks {

void MetricSums::add(const MetricSums& other) {
  for (const auto& [name, value] : other.sums) sums[name] += value;
  count += other.count;
}

std::map<std::string, double> MetricSums::averages() const {
  std::map<std::string, double> out;
  for (const auto& [name, value] : sums) out[name] = count > 0 ? value / count : 0.0;
  return out;
}

}  // namespace strike::tasks
