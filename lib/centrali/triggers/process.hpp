#pragma once
// Running a function's command: a local process fed one JSON document on
// stdin, with bounded output capture and a hard timeout.
//
// The child runs in its own process group so a timeout can kill everything it
// started. Payload data travels only through stdin and the environment, never
// the command line. Output beyond `max_output` is read and discarded, so a
// child printing gigabytes neither blocks nor grows our memory.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "centrali/util/error.hpp"

namespace centrali::triggers {

// How `ProcessSpec::command` becomes a program: `/bin/sh -c CMD`, or CMD split
// into argv by split_command and run directly (searched on PATH).
enum class CommandMode { shell, exec };

struct ProcessSpec {
  std::string command;
  CommandMode mode = CommandMode::shell;
  std::string stdin_data;  // written fully, then stdin is closed; a child that never reads is fine
  std::vector<std::pair<std::string, std::string>> env;  // added to (or replacing in) the inherited environment
  std::vector<std::string> withheld_env;                 // inherited variables not passed on (unless `env` sets them)
  std::string cwd;                                       // empty = inherit
  std::chrono::milliseconds timeout{30000};
  std::size_t max_output = 1 << 20;  // per stream; beyond it bytes are drained and discarded, `*_truncated` set
};

enum class ProcessOutcome { exited, timed_out, failed_to_start };

struct ProcessResult {
  ProcessOutcome outcome = ProcessOutcome::failed_to_start;
  int exit_code = -1;  // exited: the status, 128+N if killed by signal N; timed_out: how it died
  std::string out, err;
  bool out_truncated = false, err_truncated = false;
  std::int64_t duration_ms = 0;
  // failed_to_start: why ("command not found: foo", "cannot chdir to X: ...").
  // exited with 127/126 from the shell: the shell's complaint made readable.
  std::string error;
};

// Runs the command to completion, or until `timeout`: then SIGTERM goes to the
// whole process group and SIGKILL follows after a 500 ms grace. Returns once
// the command has exited; background processes it leaves behind are not
// waited for (their output after that point is lost). Thread-safe: many may
// run at once from different threads.
ProcessResult run_process(const ProcessSpec& spec);

// Splits an exec-mode command into argv with simple shell-like quoting:
// whitespace separates words; '…' is literal; "…" honours \" \\ \$ \`;
// a backslash outside quotes takes the next character literally. No
// variables, globs or operators. Errors: empty command, unterminated quote.
Result<std::vector<std::string>> split_command(std::string_view command);

} // namespace centrali::triggers
