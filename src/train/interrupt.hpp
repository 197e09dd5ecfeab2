// SIGINT and SIGTERM while training (docs/reliability.md, "Interrupts"): the first one only asks
// the training loop to stop after the current step (it saves and writes summary.json); a second
// one exits at once with 128 + its number, like the default action. Saves stay consistent even
// then (saved_state.hpp).
#pragma once

namespace normlab {

// What the handler prints at the first signal: the one-process note; the note of rank 0 of several
// (an MPI launcher also sends SIGTERM when it ends the job because another rank failed); nothing
// (the other ranks: rank 0 speaks for the job).
enum class InterruptNote { OneProcess, FirstOfRanks, Silent };

// Installs the handlers for its lifetime and restores the previous ones after.
class InterruptHandler {
 public:
  explicit InterruptHandler(InterruptNote note = InterruptNote::OneProcess);
  ~InterruptHandler();
  InterruptHandler(const InterruptHandler&) = delete;
  InterruptHandler& operator=(const InterruptHandler&) = delete;
};

// The signal received since the handler was installed (SIGINT, SIGTERM), or 0.
int interrupt_signal();
// Asks the training loop to stop as `signal` would: the Python module's callback raised
// (KeyboardInterrupt), and the run is to be saved as on SIGINT before the exception goes on.
void request_interrupt(int signal);
// "SIGINT", "SIGTERM".
const char* signal_name(int signal);

}  // namespace normlab
