#include "train/directory_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/config.hpp"

namespace normlab {

DirectoryLock::DirectoryLock(const std::filesystem::path& dir, const std::string& name,
                             const std::string& busy_message) {
  const std::filesystem::path path = name.empty() ? dir : dir / name;
  fd_ = name.empty() ? ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                     : ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw UserError(path.string() + ": cannot open: " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    throw UserError(dir.string() + ": " + busy_message);
  }
}

DirectoryLock::~DirectoryLock() {
  ::close(fd_);
}

}  // namespace normlab
