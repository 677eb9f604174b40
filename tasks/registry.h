// A named-constructor registry (name -> description, factory), built once by a function and then immutable.
#pragma once
#include "core/error.h"

#include <algorithm>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace strike::tasks {

template <typename Factory>
class Registry {
 public:
  struct Entry {
    std::string name;
    std::string description;  // one line for `strike list`
    Factory factory;
  };

  // `kind` names the entries in messages, e.g. "backbone".
  Registry(std::string kind, std::vector<Entry> entries) : kind_(std::move(kind)), entries_(std::move(entries)) {}

  const std::string& kind() const { return kind_; }

  // Names in registration order (the order `strike list` prints).
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.push_back(e.name);
    return out;
  }

  bool contains(const std::string& name) const { return find(name) != nullptr; }

  const std::string& describe(const std::string& name) const { return entry(name).description; }

  // The factory for `name`; throws UsageError listing every known name for an unknown one.
  const Factory& get(const std::string& name) const { return entry(name).factory; }

  template <typename... Args>
  auto create(const std::string& name, Args&&... args) const {
    return get(name)(std::forward<Args>(args)...);
  }

  // One "name  description" line per entry, names padded to one column.
  void print(std::ostream& out) const {
    size_t width = 0;
    for (const auto& e : entries_) width = std::max(width, e.name.size());
    for (const auto& e : entries_) out << e.name << std::string(width - e.name.size() + 2, ' ') << e.description << '\n';
  }

 private:
  const Entry* find(const std::string& name) const {
    for (const auto& e : entries_) {
      if (e.name == name) return &e;
    }
    return nullptr;
  }

  const Entry& entry(const std::string& name) const {
    if (const Entry* e = find(name)) return *e;
    std::string known;
    for (const auto& e : entries_) known += (known.empty() ? "" : ", ") + e.name;
    throw UsageError("unknown " + kind_ + " '" + name + "'; known " + kind_ + "s: " + known, "",
                     "see `strike list " + kind_ + "s`");
  }

  std::string kind_;
  std::vector<Entry> entries_;
};

}  // namespace strike::tasks
