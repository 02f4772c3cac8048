// How long the things the tests check for behaviour take: the timing side
// of tests that used to fail on a wall-clock limit (issue 30). Each line is
// one measurement, the baseline it is compared with in the same run, and
// their ratio. It never fails on a timing; it exits 1 only when a scenario
// could not run at all.
//   bench_timings
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>

#include "centrali/http/client.hpp"
#include "centrali/schedule/cron.hpp"
#include "centrali/schedule/zone.hpp"
#include "centrali/signatures/signatures.hpp"
#include "centrali/triggers/process.hpp"
#include "centrali/util/time.hpp"
#include "log_writer.hpp"

using namespace centrali;
using namespace std::chrono_literals;

namespace {

int g_failures = 0;

double ms_of(const std::function<void()>& work)
{
  auto started = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
}

void report(const char* what, double ms, const char* baseline_name, double baseline_ms)
{
  std::printf("%-58s %10.2f ms   %-34s %9.2f ms   x%.2f\n", what, ms, baseline_name, baseline_ms,
              baseline_ms > 0 ? ms / baseline_ms : 0.0);
}

triggers::ProcessSpec shell(std::string command, std::chrono::milliseconds timeout = 10s)
{
  triggers::ProcessSpec spec;
  spec.command = std::move(command);
  spec.timeout = timeout;
  return spec;
}

double process_ms(const triggers::ProcessSpec& spec)
{
  return ms_of([&] { (void)triggers::run_process(spec); });
}

void processes()
{
  std::puts("run_process (tests/unit/test_triggers_process.cpp, test_triggers_function.cpp)");
  (void)process_ms(shell("true"));  // warm-up: the first spawn pays for page faults
  const double spawn = process_ms(shell("true"));
  report("  cat with a small stdin", process_ms(shell("cat")), "spawn of `true`", spawn);
  report("  kill -TERM $$ (reported as a signal death)", process_ms(shell("kill -TERM $$; sleep 5")), "spawn of `true`", spawn);
  report("  300 ms timeout, group with grandchildren", process_ms(shell("sleep 100 & sh -c 'sleep 100'", 300ms)),
         "the timeout", 300);
  report("  200 ms timeout, group ignoring SIGTERM", process_ms(shell("trap '' TERM; sleep 100", 200ms)),
         "timeout + 500 ms grace", 700);
  report("  300 ms timeout, escaped process holds the pipes",
         process_ms(shell("setsid sh -c 'exec sleep 3' & echo started; sleep 100", 300ms)), "the timeout", 300);
  report("  exits while a background child holds stdout", process_ms(shell("sleep 3 & echo done")), "spawn of `true`", spawn);
  report("  50 MB of output, 1 MiB kept", process_ms(shell("head -c 52428800 /dev/zero")), "spawn of `true`", spawn);
  auto unread = shell("exit 7");
  unread.stdin_data.assign(5 << 20, 'x');
  report("  5 MB stdin to a child that never reads it", process_ms(unread), "spawn of `true`", spawn);
}

void log_writer()
{
  std::puts("LogWriter (tests/unit/test_cli_log_writer.cpp)");
  const std::string line(99, 'x');
  int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  int fds[2];
  if (devnull < 0 || ::pipe2(fds, O_CLOEXEC) != 0) {
    std::puts("  cannot open /dev/null or a pipe");
    ++g_failures;
    return;
  }
  double to_null = 0, to_stopped = 0, finishing = 0;
  {
    cli::LogWriter log(devnull, 16 * 1024);
    to_null = ms_of([&] {
      for (int i = 0; i < 20'000; ++i) log.write(line + "\n");
    });
  }
  {
    cli::LogWriter log(fds[1], 16 * 1024);
    to_stopped = ms_of([&] {
      for (int i = 0; i < 20'000; ++i) log.write(line + "\n");
    });
  }
  int unread[2];
  if (::pipe2(unread, O_CLOEXEC) == 0) {
    cli::LogWriter log(unread[1]);
    for (int i = 0; i < 2'000; ++i) log.write(std::string(199, 'y') + "\n");  // 400 KB, the pipe holds 64 KiB
    finishing = ms_of([&] { log.finish(); });
    ::close(unread[0]);
    ::close(unread[1]);
  }
  report("  20,000 lines to a reader that stopped", to_stopped, "20,000 lines to /dev/null", to_null);
  report("  finish() with a reader that never reads", finishing, "its patience (2 s)", 2000);
  ::close(devnull);
  ::close(fds[0]);
  ::close(fds[1]);
}

void cron()
{
  std::puts("Cron::next_after (tests/unit/test_schedule_cron.cpp)");
  auto utc = schedule::Zone::utc();
  auto berlin = schedule::Zone::locate("Europe/Berlin");
  const auto from = *timeutil::parse_instant("2026-01-01T00:00:00Z");
  auto hourly = *schedule::Cron::parse("0 * * * *");
  const double baseline = ms_of([&] {
    for (int i = 0; i < 1000; ++i) (void)hourly.next_after(from, utc);
  });
  for (const char* expr : {"0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30 2 MON"}) {
    auto c = *schedule::Cron::parse(expr);
    const double ms = ms_of([&] {
      for (int i = 0; i < 1000; ++i) (void)c.next_after(from, utc);
    });
    report(("  1,000 x next_after \"" + std::string(expr) + "\"").c_str(), ms, "1,000 x \"0 * * * *\"", baseline);
  }
  if (berlin) {
    auto every_minute = *schedule::Cron::parse("* * * * *");
    const double ms = ms_of([&] { (void)schedule::next_fires(every_minute, *berlin, from, 3000); });
    report("  3,000 fires of \"* * * * *\" in Berlin", ms, "1,000 x \"0 * * * *\"", baseline);
  }
}

void signatures()
{
  std::puts("sig::verify (tests/unit/test_signatures_fuzz.cpp)");
  sig::SignInput in;
  in.scheme = sig::Scheme::standard;
  in.secrets = {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
  in.id = "msg_1";
  in.timestamp = 1700000000;
  in.body = R"({"a":[1,2,{"b":"c"}],"n":1.10})";
  auto headers = sig::sign(in);
  if (!headers) {
    std::puts("  sign() failed");
    ++g_failures;
    return;
  }
  sig::VerifyInput v;
  v.scheme = in.scheme;
  v.secrets = in.secrets;
  v.headers = &*headers;
  v.body = in.body;
  v.now_s = 1700000000;
  const double signing = ms_of([&] {
    for (int i = 0; i < 30'000; ++i) (void)sig::sign(in);
  });
  const double verifying = ms_of([&] {
    for (int i = 0; i < 30'000; ++i) (void)sig::verify(v);
  });
  v.diagnose = sig::Diagnose::yes;
  auto wrong = *headers;
  for (auto& h : wrong)
    if (h.name == "webhook-signature") h.value = "v1,AAAA";
  v.headers = &wrong;
  const double diagnosing = ms_of([&] {
    for (int i = 0; i < 3'000; ++i) (void)sig::verify(v);
  });
  report("  30,000 x verify (standard, valid)", verifying, "30,000 x sign", signing);
  report("  3,000 x verify with diagnosis (invalid)", diagnosing, "30,000 x sign", signing);
}

// A loopback server that answers one request with `response`, a byte every
// `gap`, until the client goes away.
class Trickler {
public:
  Trickler(std::string response, std::chrono::milliseconds gap)
  {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || ::listen(m_fd, 4) != 0)
      return;
    m_port = ntohs(addr.sin_port);
    m_thread = std::thread([this, response = std::move(response), gap] {
      int c = ::accept(m_fd, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      (void)::read(c, buf, sizeof buf);  // the request (small, one read)
      for (char ch : response) {
        if (m_stop || ::send(c, &ch, 1, MSG_NOSIGNAL) != 1) break;
        std::this_thread::sleep_for(gap);
      }
      ::close(c);
    });
  }
  ~Trickler()
  {
    m_stop = true;
    ::shutdown(m_fd, SHUT_RDWR);
    ::close(m_fd);
    if (m_thread.joinable()) m_thread.join();
  }
  int port() const { return m_port; }

private:
  int m_fd = -1;
  int m_port = 0;
  std::atomic<bool> m_stop{false};
  std::thread m_thread;
};

void http_client()
{
  std::puts("http::ClientPool (tests/unit/test_http_client.cpp)");
  Trickler server("HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n" + std::string(20'000, 'x'), 20ms);
  if (server.port() == 0) {
    std::puts("  cannot listen on loopback");
    ++g_failures;
    return;
  }
  http::OutboundRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/hook";
  request.method = "POST";
  request.body = "{}";
  request.timeout = 600ms;
  http::ClientPool clients;
  const double ms = ms_of([&] { (void)clients.send(request); });
  report("  body trickling past a 600 ms timeout", ms, "the timeout", 600);
}

} // namespace

int main()
{
  processes();
  log_writer();
  cron();
  signatures();
  http_client();
  return g_failures == 0 ? 0 : 1;
}
