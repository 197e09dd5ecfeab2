// An exclusive flock on DIR/NAME (NAME empty: on DIR itself, which creates no file) for an
// object's lifetime; the kernel drops it when the process dies, so a killed holder never leaves a
// stale lock. Used so two sweeps cannot share a directory, nor two trainers a run.
#pragma once
#include <filesystem>
#include <string>

namespace normlab {

class DirectoryLock {
 public:
  // Throws UserError("DIR: " + busy_message) when another process holds the lock.
  DirectoryLock(const std::filesystem::path& dir, const std::string& name,
                const std::string& busy_message);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace normlab
