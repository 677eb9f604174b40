// `strike data inspect DIR`: a human-readable summary of a dataset directory.
#pragma once
#include <ostream>
#include <string>

namespace strike::data {

// Prints task, source, fields, classes with per-split counts, splits and their shards, and the
// train statistics of DIR/manifest.json. Reads only the manifest (and label arrays when the
// manifest predates per-class counts); throws Error if the manifest is missing or malformed.
void inspect(const std::string& dir, std::ostream& out);

}  // namespace strike::data
