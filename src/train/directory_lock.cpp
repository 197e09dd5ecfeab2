#include "train/directory_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/config.hpp"

namespace normlab {

bool DirectoryLock::acquire(const std::filesystem::path& dir, const std::string& name, int flags) {
  const std::filesystem::path path = name.empty() ? dir : dir / name;
  fd_ = name.empty() ? ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                     : ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw UserError(path.string() + ": cannot open: " + std::strerror(errno));
  int rc;
  while ((rc = ::flock(fd_, LOCK_EX | flags)) != 0 && errno == EINTR) {
  }
  if (rc == 0) return true;
  const int error = errno;
  ::close(fd_);
  fd_ = -1;
  if (error != EWOULDBLOCK)
    throw UserError(path.string() + ": cannot lock: " + std::strerror(error));
  return false;
}

DirectoryLock::DirectoryLock(const std::filesystem::path& dir, const std::string& name,
                             const std::string& busy_message) {
  if (!acquire(dir, name, LOCK_NB)) throw UserError(dir.string() + ": " + busy_message);
}

std::unique_ptr<DirectoryLock> DirectoryLock::try_lock(const std::filesystem::path& dir,
                                                       const std::string& name) {
  std::unique_ptr<DirectoryLock> lock(new DirectoryLock());
  if (!lock->acquire(dir, name, LOCK_NB)) lock.reset();
  return lock;
}

std::unique_ptr<DirectoryLock> DirectoryLock::wait_lock(const std::filesystem::path& dir,
                                                        const std::string& name) {
  std::unique_ptr<DirectoryLock> lock(new DirectoryLock());
  lock->acquire(dir, name, 0);
  return lock;
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace normlab
