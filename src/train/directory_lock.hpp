// An exclusive flock on DIR/NAME (NAME empty: on DIR itself, which creates no file) for an
// object's lifetime; the kernel drops it when the process dies, so a killed holder never leaves a
// stale lock. Used so two trainers cannot share a run, so that a sweep cell is run by one process
// only, and so that sweep processes sharing a directory write summary.csv one at a time. A lock
// file is never removed while it may be held: a new file of the same name would be a second lock.
#pragma once
#include <filesystem>
#include <memory>
#include <string>

namespace normlab {

class DirectoryLock {
 public:
  // Throws UserError("DIR: " + busy_message) when another process holds the lock.
  DirectoryLock(const std::filesystem::path& dir, const std::string& name,
                const std::string& busy_message);
  // Null when another process holds the lock (the caller leaves that object to it).
  static std::unique_ptr<DirectoryLock> try_lock(const std::filesystem::path& dir,
                                                 const std::string& name);
  // Waits until the holder, if any, lets go: for locks held only briefly.
  static std::unique_ptr<DirectoryLock> wait_lock(const std::filesystem::path& dir,
                                                  const std::string& name);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  DirectoryLock() = default;
  // Opens the lock's file; flock(LOCK_EX | flags); false (nothing held) when it would block.
  bool acquire(const std::filesystem::path& dir, const std::string& name, int flags);
  int fd_ = -1;
};

}  // namespace normlab
