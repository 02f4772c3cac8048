// The listener's log writer against real pipes: in order, never blocking
// the caller on a reader that stops, and saying what it dropped.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "log_writer.hpp"
#include "wait.hpp"

using centrali::cli::LogWriter;

namespace {

struct Pipe {
  int read_end = -1, write_end = -1;
  Pipe()
  {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    read_end = fds[0];
    write_end = fds[1];
  }
  ~Pipe()
  {
    if (read_end >= 0) ::close(read_end);
    if (write_end >= 0) ::close(write_end);
  }
  // Everything readable within `wait` of the last byte.
  std::string drain(std::chrono::milliseconds wait = std::chrono::milliseconds(500))
  {
    std::string got;
    char buf[65536];
    pollfd p{read_end, POLLIN, 0};
    while (::poll(&p, 1, static_cast<int>(wait.count())) > 0) {
      auto n = ::read(read_end, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
  }
};

} // namespace

TEST_CASE("LogWriter writes every line in order", "[cli]")
{
  Pipe pipe;
  std::string expected;
  {
    LogWriter log(pipe.write_end);
    for (int i = 0; i < 1000; ++i) {
      auto line = "line " + std::to_string(i) + "\n";
      expected += line;
      log.write(line);
    }
    log.finish();
    CHECK(log.dropped() == 0);
  }
  CHECK(pipe.drain() == expected);
}

TEST_CASE("LogWriter never blocks on a reader that stops, and says how much it dropped", "[cli]")
{
  Pipe pipe;
  LogWriter log(pipe.write_end, 16 * 1024);
  const std::string line(99, 'x');
  // About 2 MB: thirty pipes' worth, far past the 16 KiB queue. A writer
  // that blocked would wait for the reader forever: the wait is bounded,
  // and a blocked writer is let go by reading, then reported. (How fast the
  // writes are is bench/timings.sh's.)
  std::atomic<bool> written{false};
  std::thread writer([&] {
    for (int i = 0; i < 20'000; ++i) log.write(line + "\n");
    written = true;
  });
  const bool returned = testing::wait_until([&] { return written.load(); }, std::chrono::seconds(60));
  while (!written) pipe.drain(std::chrono::milliseconds(10));
  writer.join();
  REQUIRE(returned);  // else: write() blocked on a reader that stopped
  CHECK(log.dropped() > 0);
  // The reader comes back: what was queued arrives, then the note.
  auto got = pipe.drain(std::chrono::milliseconds(2000));
  CHECK_THAT(got, Catch::Contains(line));
  CHECK_THAT(got, Catch::Contains("log line(s) dropped: the log was not read fast enough"));
  // Every dropped line is counted in a note (one per time the reader caught up).
  std::uint64_t noted = 0;
  const std::string marker = " log line(s) dropped";
  for (auto at = got.find(marker); at != std::string::npos; at = got.find(marker, at + 1)) {
    auto start = got.rfind("centrali: ", at);
    REQUIRE(start != std::string::npos);
    noted += std::stoull(got.substr(start + 10, at - start - 10));
  }
  CHECK(noted == log.dropped());
}

TEST_CASE("LogWriter::finish gives up on a reader that never reads", "[cli]")
{
  Pipe pipe;
  LogWriter log(pipe.write_end);
  for (int i = 0; i < 2'000; ++i) log.write(std::string(199, 'y') + "\n");  // 400 KB, the pipe holds 64 KiB
  // finish() must return although nothing is ever read; a finish that
  // waited for the reader is let go by reading, then reported.
  std::atomic<bool> finished{false};
  std::thread finisher([&] {
    log.finish();
    finished = true;
  });
  const bool returned = testing::wait_until([&] { return finished.load(); }, std::chrono::seconds(60));
  std::size_t read_after = 0;
  while (!finished) read_after += pipe.drain(std::chrono::milliseconds(10)).size();
  finisher.join();
  REQUIRE(returned);  // else: finish() waited for a reader that never reads
  // It gave up: what it had not written by then is not written later.
  CHECK(pipe.drain(std::chrono::milliseconds(100)).size() < 2'000u * 200u);
}
