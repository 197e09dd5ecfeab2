// A temporary directory tree for the report tests: files written by relative path, removed with
// the object.
#pragma once
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

struct TempTree {
  std::filesystem::path root;
  TempTree() {
    std::string t =
        (std::filesystem::temp_directory_path() / "normlab-report-test-XXXXXX").string();
    root = ::mkdtemp(t.data());
  }
  ~TempTree() { std::filesystem::remove_all(root); }
  void write(const std::string& rel, const std::string& text) const {
    std::filesystem::create_directories((root / rel).parent_path());
    std::ofstream(root / rel) << text;
  }
  std::string path(const std::string& rel) const { return (root / rel).string(); }
};
