#include "train/interrupt.hpp"

#include <unistd.h>

#include <csignal>

namespace normlab {

namespace {

volatile std::sig_atomic_t g_signal = 0;
struct sigaction g_previous_int, g_previous_term;

void on_signal(int signal) {
  if (g_signal != 0) ::_exit(128 + signal);
  g_signal = signal;
  static const char note[] =
      "\nnormlab: interrupted: finishing this step and saving (interrupt again to quit now)\n";
  // write(2) is async-signal-safe; its result cannot be acted on here.
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, note, sizeof note - 1);
}

}  // namespace

InterruptHandler::InterruptHandler() {
  g_signal = 0;
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

const char* signal_name(int signal) {
  return signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "a signal";
}

}  // namespace normlab
