#include "log_writer.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>

namespace centrali::cli {

namespace {
// Once stopping, a reader that takes no bytes for this long is given up on.
constexpr auto k_stop_patience = std::chrono::seconds(2);
// poll() reports a pipe writable when PIPE_BUF bytes fit; writing no more
// than that at once then never blocks.
constexpr std::size_t k_chunk = 4096;
} // namespace

namespace {
// A terminal or a pipe reports writable when any room is free, so even a
// write after poll() could block, and with it the exit. Write through a
// non-blocking description of our own: reopening the descriptor (rather
// than setting O_NONBLOCK on it) leaves the shell's description alone.
int nonblocking_copy(int fd)
{
  struct stat st{};
  if (::fstat(fd, &st) != 0 || S_ISREG(st.st_mode)) return -1;
  return ::open(("/proc/self/fd/" + std::to_string(fd)).c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
}
} // namespace

LogWriter::LogWriter(int fd, std::size_t max_queued_bytes, std::function<std::string(const std::string&)> note)
    : m_own_fd(nonblocking_copy(fd)), m_fd(m_own_fd >= 0 ? m_own_fd : fd), m_max(max_queued_bytes),
      m_note(std::move(note)), m_thread([this] {
        ::pthread_setname_np(::pthread_self(), "log-writer");  // for top -H and perf
        run();
      })
{
}

LogWriter::~LogWriter()
{
  finish();
  if (m_own_fd >= 0) ::close(m_own_fd);
}

void LogWriter::finish()
{
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_one();
  if (m_thread.joinable()) m_thread.join();
}

void LogWriter::write(std::string line)
{
  bool notify = false;
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping) return;
    if (m_queue.size() + line.size() > m_max) {
      ++m_dropped;
      ++m_unreported;
    } else {
      m_queue += line;
    }
    // A writer that is awake takes the queue when its write returns: a
    // wake-up per line would cost the logging thread a syscall each.
    notify = m_sleeping;
    m_sleeping = false;
  }
  if (notify) m_wake.notify_one();
}

std::uint64_t LogWriter::dropped()
{
  std::lock_guard lock(m_mutex);
  return m_dropped;
}

void LogWriter::run()
{
  std::string batch;
  while (true) {
    std::uint64_t unreported = 0;
    bool stopping = false;
    {
      std::unique_lock lock(m_mutex);
      while (m_queue.empty() && m_unreported == 0 && !m_stopping) {
        m_sleeping = true;
        m_wake.wait(lock);
      }
      m_sleeping = false;
      batch.swap(m_queue);
      m_queue.clear();
      unreported = m_unreported;
      m_unreported = 0;
      stopping = m_stopping;
    }
    if (unreported > 0) {
      auto text = "centrali: " + std::to_string(unreported) +
                  " log line(s) dropped: the log was not read fast enough (every event is in the store)";
      batch += m_note ? m_note(text) : text + "\n";
    }
    if (!batch.empty() && !write_out(batch) && stopping) return;
    batch.clear();
    if (stopping) {
      std::lock_guard lock(m_mutex);
      if (m_queue.empty() && m_unreported == 0) return;
    }
  }
}

bool LogWriter::write_out(const std::string& bytes)
{
  std::size_t off = 0;
  auto last_progress = std::chrono::steady_clock::now();
  while (off < bytes.size()) {
    pollfd p{m_fd, POLLOUT, 0};
    int ready = ::poll(&p, 1, 100);
    if (ready < 0 && errno != EINTR) return false;
    if (ready <= 0) {
      bool stopping = false;
      {
        std::lock_guard lock(m_mutex);
        stopping = m_stopping;
      }
      if (stopping && std::chrono::steady_clock::now() - last_progress > k_stop_patience) return false;
      continue;
    }
    if (p.revents & (POLLERR | POLLNVAL)) return false;
    auto n = ::write(m_fd, bytes.data() + off, std::min(k_chunk, bytes.size() - off));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;  // EPIPE and the like: nobody will read it
    }
    off += static_cast<std::size_t>(n);
    last_progress = std::chrono::steady_clock::now();
  }
  return true;
}

} // namespace centrali::cli
