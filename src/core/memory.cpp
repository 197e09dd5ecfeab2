#include "core/memory.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/config.hpp"

namespace normlab {

namespace {

// A number in a one-value file ("max" or an unreadable file: 0).
uint64_t read_number(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return 0;
  try {
    return std::stoull(text);
  } catch (const std::exception&) {
    return 0;
  }
}

uint64_t mem_available() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib) {
    std::getline(in, unit);
    if (key == "MemAvailable:") return kib * 1024;
  }
  return 0;
}

// The path of this process's cgroup (v2: the "0::" line of /proc/self/cgroup).
std::string own_cgroup() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  return "";
}

uint64_t cgroup_room() {
  const std::string v2 = "/sys/fs/cgroup" + own_cgroup();
  for (const std::string& dir : {v2, std::string("/sys/fs/cgroup")}) {
    const uint64_t limit = read_number(dir + "/memory.max");
    if (limit > 0) return limit - std::min(limit, read_number(dir + "/memory.current"));
  }
  const uint64_t limit = read_number("/sys/fs/cgroup/memory/memory.limit_in_bytes");
  // v1 reports "no limit" as a huge number (PAGE_COUNTER_MAX pages).
  if (limit == 0 || limit >= (uint64_t{1} << 60)) return 0;
  return limit - std::min(limit, read_number("/sys/fs/cgroup/memory/memory.usage_in_bytes"));
}

}  // namespace

uint64_t available_memory_bytes() {
  const uint64_t a = mem_available(), b = cgroup_room();
  if (a == 0 || b == 0) return std::max(a, b);
  return std::min(a, b);
}

std::string format_bytes(uint64_t bytes) {
  static const char* const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  char buf[32];
  if (bytes < 1024) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
    return buf;
  }
  double v = static_cast<double>(bytes) / 1024;
  int u = 0;
  while (v >= 1024 && u < 5) v /= 1024, ++u;
  std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

void check_memory(uint64_t bytes, const std::string& where, const std::string& what) {
  const uint64_t available = available_memory_bytes();
  if (available == 0 || bytes <= available) return;
  throw UserError((where.empty() ? "" : where + ": ") + "needs " + format_bytes(bytes) + " (" +
                  what + "), " + format_bytes(available) + " available");
}

}  // namespace normlab
