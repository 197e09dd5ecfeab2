// Shared by the fuzz targets. libFuzzer hands each input over as bytes, but normlab's readers take
// a path (they stat, open and seek like any user's file), so the input is written to one scratch
// file per process and read back through exactly the code a user's file goes through.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

namespace normlab_fuzz {

// PATH of the scratch file holding the input; in TMPDIR (CI and scripts/fuzz.sh: a tmpfs).
inline std::string write_input(const uint8_t* data, size_t size, const char* extension) {
  const char* tmp = std::getenv("TMPDIR");
  const std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/normlab-fuzz-" +
                           std::to_string(::getpid()) + extension;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
  return path;
}

// The promise checked on every rejected input: one line that starts with the file's path
// (docs/reliability.md). Anything else -- another exception type, several lines, an error that
// does not say which file -- aborts, and libFuzzer records the input as a crash.
inline void check_user_error(const std::exception& e, const std::string& path) {
  const std::string what = e.what();
  if (what.rfind(path + ": ", 0) != 0 || what.find('\n') != std::string::npos) {
    std::fprintf(stderr, "bad error message for %s: %s\n", path.c_str(), what.c_str());
    std::abort();
  }
}

// Aborts with WHAT when a property that must hold for every accepted input does not.
inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "property violated: %s\n", what);
    std::abort();
  }
}

}  // namespace normlab_fuzz
