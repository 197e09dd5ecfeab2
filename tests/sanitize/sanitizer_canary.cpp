// A program with one deliberate defect per sanitizer, chosen by argv[1]: scripts/sanitize.sh
// builds it with the flags and runs it with the options of the real run, and fails unless every
// case is caught (non-zero exit and a report file). Without it, a sanitizer run that silently
// lost its instrumentation, recovered from UB or printed reports where nobody looks would pass.
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

// volatile: the compiler must not fold the defects away at -O1.
volatile int sink;

// The sizes and indices are volatile so that neither the optimizer nor UBSan's object-size check
// (which knows constant allocation sizes) gets there before ASan.
int heap_overflow() {
  volatile int n = 4;
  int* a = new int[n];
  sink = a[n];  // ASan: heap-buffer-overflow
  delete[] a;
  return 0;
}

int use_after_free() {
  volatile int n = 4;
  int* a = new int[n];
  delete[] a;
  sink = a[n - 1];  // ASan: heap-use-after-free
  return 0;
}

int leak() {
  int* volatile a = new int[4];  // LeakSanitizer: reported at exit
  a[0] = 1;
  a = nullptr;
  return 0;
}

int signed_overflow() {
  volatile int x = INT_MAX;
  sink = x + 1;  // UBSan: signed-integer-overflow
  return 0;
}

int float_cast_overflow() {
  volatile float f = 1e20f;
  sink = static_cast<int>(f);  // UBSan: float-cast-overflow
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* which = argc > 1 ? argv[1] : "";
  if (!std::strcmp(which, "heap-overflow")) return heap_overflow();
  if (!std::strcmp(which, "use-after-free")) return use_after_free();
  if (!std::strcmp(which, "leak")) return leak();
  if (!std::strcmp(which, "signed-overflow")) return signed_overflow();
  if (!std::strcmp(which, "float-cast-overflow")) return float_cast_overflow();
  std::fprintf(stderr,
               "usage: sanitizer_canary heap-overflow|use-after-free|leak|signed-overflow|"
               "float-cast-overflow\n");
  return 2;
}
