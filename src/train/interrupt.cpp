#include "train/interrupt.hpp"

#include <unistd.h>

#include <csignal>
#include <cstddef>

namespace normlab {

namespace {

volatile std::sig_atomic_t g_signal = 0;
struct sigaction g_previous_int, g_previous_term;
const char* g_note = nullptr;  // printed at the first signal (null: nothing)

const char kOneProcessNote[] =
    "\nnormlab: interrupted: finishing this step and saving (interrupt again to quit now)\n";
const char kRanksNote[] =
    "\nnormlab: interrupted: finishing this step and saving on every rank (interrupt again to "
    "quit now); if mpirun reports a failed rank below, it is ending the job: --resume continues "
    "from the last checkpoint\n";

void on_signal(int signal) {
  if (g_signal != 0) ::_exit(128 + signal);
  g_signal = signal;
  if (!g_note) return;
  size_t length = 0;
  while (g_note[length] != '\0') ++length;  // strlen is not async-signal-safe
  // write(2) is async-signal-safe; its result cannot be acted on here.
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, g_note, length);
}

}  // namespace

InterruptHandler::InterruptHandler(InterruptNote note) {
  g_signal = 0;
  g_note = note == InterruptNote::OneProcess     ? kOneProcessNote
           : note == InterruptNote::FirstOfRanks ? kRanksNote
                                                 : nullptr;
  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // file writes in progress continue rather than fail with EINTR
  sigaction(SIGINT, &sa, &g_previous_int);
  sigaction(SIGTERM, &sa, &g_previous_term);
}

InterruptHandler::~InterruptHandler() {
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
}

int interrupt_signal() {
  return g_signal;
}

void request_interrupt(int signal) {
  g_signal = signal;
}

const char* signal_name(int signal) {
  return signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "a signal";
}

}  // namespace normlab
