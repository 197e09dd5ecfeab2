// How much memory this process may still take, so that a model too large for the machine is a
// clear error before anything is allocated (docs/reliability.md, "Memory") rather than
// std::bad_alloc or the kernel's OOM killer (zero-filling a huge vector touches every page).
#pragma once
#include <cstdint>
#include <string>

namespace normlab {

// The smaller of the kernel's estimate of memory available without swapping (MemAvailable in
// /proc/meminfo) and the room left under this process's cgroup limit (cgroup v2 memory.max minus
// memory.current, or v1 memory.limit_in_bytes minus memory.usage_in_bytes). 0 when neither can
// be read.
uint64_t available_memory_bytes();
// "37.2 GiB", "512.0 MiB", "12.0 KiB", "100 B".
std::string format_bytes(uint64_t bytes);
// Throws UserError("WHERE: needs X (WHAT), Y available") (without "WHERE: " when `where` is
// empty) if `bytes` exceed the available memory (no check when that is unknown).
void check_memory(uint64_t bytes, const std::string& where, const std::string& what);

}  // namespace normlab
