// File-system helpers: atomic writes, so no reader ever sees a half-written output, and tree removal.
#pragma once
#include <string>

namespace strike::core {

// Writes `content` to `path` via a temporary file in the same directory, fsync and rename.
void write_file_atomically(const std::string& path, const std::string& content);

// Renames `tmp` to `path` after fsync-ing `tmp`, and fsyncs the directory.
void commit_file(const std::string& tmp, const std::string& path);

// A temporary name beside `path` that no other writer picks (pid and a counter).
std::string temporary_name(const std::string& path);

// Removes `path` and everything under it without following symbolic links; a missing path is no error.
// Returns false (errno set) if something could not be removed. strike does not call
// std::filesystem::remove_all: LibTorch's pip wheels export a copy of it that crashes (GPU machine, 2.11).
bool remove_tree(const std::string& path);

// Reads a whole file; throws naming the path if unreadable.
std::string read_file(const std::string& path);

}  // namespace strike::core
