#pragma once
// Writes log lines to a descriptor from a thread of its own, so a reader
// that stops reading (a paused terminal, a pipe nobody drains) never
// stalls the threads that log: the listener's event loops, which must keep
// acknowledging webhooks, and the delivery worker. Lines queue up to a
// bound; past it they are dropped and counted, and a line says how many
// once the reader catches up. The store has every event either way.
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace centrali::cli {

class LogWriter {
public:
  // `note` formats the line about dropped lines (text without newline in,
  // whole line out); by default the text plus a newline.
  explicit LogWriter(int fd, std::size_t max_queued_bytes = 4 << 20,
                     std::function<std::string(const std::string&)> note = {});
  // Writes what is still queued and stops, giving up on a reader that
  // takes no bytes for a moment (exiting must not hang on it either).
  // Lines written after this are dropped. The destructor calls it.
  void finish();
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // `line` should end with a newline. Never blocks on the descriptor.
  void write(std::string line);
  // Lines dropped so far because the queue was full.
  std::uint64_t dropped();

private:
  void run();
  // Writes all of `bytes` unless the descriptor stays unwritable past the
  // stop deadline (once stopping); false if it gave up or the write failed.
  bool write_out(const std::string& bytes);

  int m_own_fd;                     // a non-blocking copy of the descriptor, or -1
  int m_fd;                         // what is written to
  std::size_t m_max;
  std::function<std::string(const std::string&)> m_note;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  std::string m_queue;              // whole lines, in order
  std::uint64_t m_dropped = 0;      // in total
  std::uint64_t m_unreported = 0;   // dropped since the last note about it
  bool m_sleeping = false;
  bool m_stopping = false;
  std::thread m_thread;
};

} // namespace centrali::cli
