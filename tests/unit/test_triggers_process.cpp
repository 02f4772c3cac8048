#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "centrali/triggers/process.hpp"
#include "temp_dir.hpp"

using namespace centrali;
using namespace centrali::triggers;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

ProcessSpec shell(std::string command)
{
  ProcessSpec spec;
  spec.command = std::move(command);
  spec.timeout = 10s;
  return spec;
}

ProcessSpec exec(std::string command)
{
  auto spec = shell(std::move(command));
  spec.mode = CommandMode::exec;
  return spec;
}

std::string slurp(const fs::path& p)
{
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Waits for a file a child writes (it may still be starting when we look).
pid_t read_pid(const fs::path& p)
{
  for (int i = 0; i < 200 && !fs::exists(p); ++i) std::this_thread::sleep_for(10ms);
  return static_cast<pid_t>(std::stol(slurp(p)));
}

// A process that is gone or only a zombie waiting for a parent to reap it.
bool alive(pid_t pid)
{
  if (::kill(pid, 0) != 0) return false;
  auto stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  auto paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] != 'Z';
}

bool gone_within(pid_t pid, std::chrono::milliseconds limit)
{
  auto until = std::chrono::steady_clock::now() + limit;
  while (alive(pid)) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

void write_file(const fs::path& p, const std::string& text, fs::perms mode)
{
  std::ofstream(p) << text;
  fs::permissions(p, mode);
}

} // namespace

TEST_CASE("triggers::run_process writes stdin to the child and captures its stdout", "[process]")
{
  auto spec = shell("cat");
  spec.stdin_data = R"({"type":"invoice.paid","data":{"id":"in_1","amount":1200}})";
  auto r = run_process(spec);
  CHECK(r.outcome == ProcessOutcome::exited);
  CHECK(r.exit_code == 0);
  CHECK(r.out == spec.stdin_data);
  CHECK(r.err.empty());
  CHECK_FALSE(r.out_truncated);
  CHECK(r.error.empty());
  CHECK(r.duration_ms >= 0);  // how long it takes is bench/timings.sh's
}

TEST_CASE("triggers::run_process passes env vars, overriding inherited ones", "[process]")
{
  auto spec = shell(R"(printf '%s|%s|%s' "$CENTRALI_EVENT_TYPE" "$HOME" "${PATH:+has-path}")");
  spec.env = {{"CENTRALI_EVENT_TYPE", "invoice.paid"}, {"HOME", "/first"}, {"HOME", "/nowhere"}};
  auto r = run_process(spec);
  CHECK(r.outcome == ProcessOutcome::exited);
  CHECK(r.out == "invoice.paid|/nowhere|has-path");

  auto bad = shell("true");
  bad.env = {{"A=B", "x"}};
  auto rb = run_process(bad);
  CHECK(rb.outcome == ProcessOutcome::failed_to_start);
  CHECK(rb.error == "invalid environment variable name 'A=B'");
}

TEST_CASE("triggers::run_process reports exit codes and deaths by signal", "[process]")
{
  CHECK(run_process(shell("exit 0")).exit_code == 0);
  auto r = run_process(shell("exit 3"));
  CHECK(r.outcome == ProcessOutcome::exited);
  CHECK(r.exit_code == 3);
  CHECK(r.error.empty());
  auto killed = run_process(shell("kill -TERM $$; sleep 5"));
  CHECK(killed.outcome == ProcessOutcome::exited);
  CHECK(killed.exit_code == 128 + SIGTERM);  // by the signal, not after the `sleep 5`
}

TEST_CASE("triggers::run_process captures stderr apart from stdout", "[process]")
{
  auto r = run_process(shell("echo out; echo oops >&2; echo more"));
  CHECK(r.out == "out\nmore\n");
  CHECK(r.err == "oops\n");
}

TEST_CASE("triggers::run_process runs in cwd, and a missing cwd fails to start", "[process]")
{
  unit::TempDir dir;
  auto spec = shell("pwd -P");
  spec.cwd = dir.path().string();
  auto r = run_process(spec);
  CHECK(r.out == fs::canonical(dir.path()).string() + "\n");

  spec.cwd = (dir.path() / "missing").string();
  auto bad = run_process(spec);
  CHECK(bad.outcome == ProcessOutcome::failed_to_start);
  CHECK(bad.error == "cannot chdir to " + spec.cwd + ": No such file or directory");
}

TEST_CASE("triggers::run_process timeout kills the whole process group, grandchildren too", "[process]")
{
  unit::TempDir dir;
  auto d = dir.path().string();
  auto spec = shell("sleep 100 & echo $! > " + d + "/bg.pid; sh -c 'echo $$ > " + d + "/nested.pid; sleep 100; true'");
  spec.timeout = 300ms;
  auto r = run_process(spec);
  CHECK(r.outcome == ProcessOutcome::timed_out);
  CHECK(r.exit_code == 128 + SIGTERM);
  CHECK(r.duration_ms >= 300);  // not before the timeout (how soon after is bench/timings.sh's)
  auto bg = read_pid(dir.path() / "bg.pid");
  auto nested = read_pid(dir.path() / "nested.pid");
  CHECK(gone_within(bg, 2s));
  CHECK(gone_within(nested, 2s));
}

TEST_CASE("triggers::run_process timeout follows SIGTERM with SIGKILL for a group that ignores it", "[process]")
{
  auto spec = shell("trap '' TERM; sleep 100; echo survived");
  spec.timeout = 200ms;
  auto r = run_process(spec);
  CHECK(r.outcome == ProcessOutcome::timed_out);
  CHECK(r.exit_code == 128 + SIGKILL);
  CHECK(r.duration_ms >= 650);  // 200 ms timeout + 500 ms grace, give or take scheduling: the grace was given
  CHECK(r.out.empty());
}

TEST_CASE("triggers::run_process timeout does not wait for a process that escaped the group and holds the pipes",
          "[process]")
{
  unit::TempDir dir;
  auto pid_file = dir.path() / "escaped.pid";
  auto spec = shell("setsid sh -c 'echo $$ > " + pid_file.string() + "; exec sleep 30' & echo started; sleep 100");
  spec.timeout = 300ms;
  auto r = run_process(spec);
  CHECK(r.outcome == ProcessOutcome::timed_out);
  CHECK(r.out == "started\n");
  // It returned while the escaped process still holds the pipes: it did
  // not wait for their end (the escaped `sleep 30` is still there).
  auto escaped = read_pid(pid_file);
  CHECK(alive(escaped));
  ::kill(escaped, SIGKILL);
}

TEST_CASE("triggers::run_process returns when the command exits even if a background child holds stdout",
          "[process]")
{
  unit::TempDir dir;
  auto pid_file = dir.path() / "bg.pid";
  auto r = run_process(shell("sleep 30 & echo $! > " + pid_file.string() + "; echo done"));
  CHECK(r.outcome == ProcessOutcome::exited);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "done\n");
  // Returned while the background child still holds stdout: it did not
  // wait for the pipe's end (the `sleep 30` is still there).
  auto background = read_pid(pid_file);
  CHECK(alive(background));
  ::kill(background, SIGKILL);
}

TEST_CASE("triggers::run_process truncates output at max_output and drains the rest", "[process]")
{
  auto r = run_process(shell("head -c 52428800 /dev/zero; echo tail >&2"));
  CHECK(r.outcome == ProcessOutcome::exited);
  CHECK(r.exit_code == 0);
  CHECK(r.out.size() == (1u << 20));
  CHECK(r.out_truncated);
  CHECK(r.err == "tail\n");
  CHECK_FALSE(r.err_truncated);

  auto spec = shell("head -c 5000000 /dev/zero >&2; echo ok");
  spec.max_output = 1000;
  auto e = run_process(spec);
  CHECK(e.err.size() == 1000);
  CHECK(e.err_truncated);
  CHECK(e.out == "ok\n");
  CHECK_FALSE(e.out_truncated);

  spec = shell("printf 12345");
  spec.max_output = 5;
  auto exact = run_process(spec);
  CHECK(exact.out == "12345");
  CHECK_FALSE(exact.out_truncated);
}

TEST_CASE("triggers::run_process does not hang on a child that never reads stdin", "[process]")
{
  const std::string big(5 << 20, 'x');
  for (auto cmd : {"sleep 0.2", "exit 7", "exec 0<&-; sleep 0.2"}) {
    auto spec = shell(cmd);
    spec.stdin_data = big;
    auto r = run_process(spec);
    INFO(cmd);
    CHECK(r.outcome == ProcessOutcome::exited);
    CHECK(r.exit_code == (std::string(cmd) == "exit 7" ? 7 : 0));  // exited: no 10 s timeout hit
  }
}

TEST_CASE("triggers::run_process writes stdin and reads output at once, so big echoes do not deadlock",
          "[process]")
{
  std::string big(5 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  auto spec = shell("cat");
  spec.stdin_data = big;
  spec.max_output = 8 << 20;
  auto r = run_process(spec);
  CHECK(r.exit_code == 0);
  CHECK(r.out.size() == big.size());
  CHECK(r.out == big);

  // Writes a lot before it reads anything.
  spec = shell("head -c 3000000 /dev/zero; wc -c | tr -d ' '");
  spec.stdin_data = big;
  spec.max_output = 4 << 20;
  auto w = run_process(spec);
  CHECK(w.exit_code == 0);
  CHECK(w.out.size() == 3000000 + 8);
  CHECK(w.out.substr(3000000) == "5242880\n");
}

TEST_CASE("triggers::split_command splits exec-mode process commands with shell-like quoting", "[process]")
{
  using V = std::vector<std::string>;
  CHECK(*split_command("echo hello") == V{"echo", "hello"});
  CHECK(*split_command("  a\t b  ") == V{"a", "b"});
  CHECK(*split_command(R"(printf '%s|' 'a b' "c\"d" e\ f '')") == V{"printf", "%s|", "a b", "c\"d", "e f", ""});
  CHECK(*split_command(R"(x 'it''s' "a\nb" "\\" "$HOME")") == V{"x", "its", "a\\nb", "\\", "$HOME"});
  CHECK(*split_command(R"(a"b c"d)") == V{"ab cd"});
  for (auto bad : {"", "   ", "echo 'open", "echo \"open", "echo trailing\\"}) {
    auto r = split_command(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::usage);
    CHECK(r.error().message.starts_with("invalid command: "));
  }
}

TEST_CASE("triggers::run_process exec mode runs argv directly with no shell in between", "[process]")
{
  auto r = run_process(exec(R"(printf '%s|' 'a b' "c\"d" e\ f '' $HOME ;ls)"));
  CHECK(r.outcome == ProcessOutcome::exited);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "a b|c\"d|e f||$HOME|;ls|");

  auto spec = exec("cat");
  spec.stdin_data = "{}";
  CHECK(run_process(spec).out == "{}");

  auto unterminated = run_process(exec("echo 'oops"));
  CHECK(unterminated.outcome == ProcessOutcome::failed_to_start);
  CHECK(unterminated.error.starts_with("invalid command: unterminated single quote"));
}

TEST_CASE("triggers::run_process exec mode searches the child's PATH and runs scripts", "[process]")
{
  unit::TempDir dir;
  write_file(dir.path() / "hello", "#!/bin/sh\necho \"hello $1\"\n", fs::perms::owner_all);
  write_file(dir.path() / "nobang", "echo \"no shebang $1\"\n", fs::perms::owner_all);
  write_file(dir.path() / "noexec", "#!/bin/sh\necho hi\n", fs::perms::owner_read | fs::perms::owner_write);
  auto spec = exec("hello world");
  spec.env = {{"PATH", "/nonexistent:" + dir.path().string() + ":/usr/bin:/bin"}};
  CHECK(run_process(spec).out == "hello world\n");
  spec.command = "nobang there";
  CHECK(run_process(spec).out == "no shebang there\n");

  // Relative paths are relative to cwd.
  auto rel = exec("./hello rel");
  rel.cwd = dir.path().string();
  CHECK(run_process(rel).out == "hello rel\n");

  auto denied = exec((dir.path() / "noexec").string());
  auto r = run_process(denied);
  CHECK(r.outcome == ProcessOutcome::failed_to_start);
  CHECK(r.error == "cannot execute " + (dir.path() / "noexec").string() + ": Permission denied");
}

TEST_CASE("triggers::run_process reports a missing command in both modes", "[process]")
{
  auto e = run_process(exec("centrali-no-such-command-xyz --flag"));
  CHECK(e.outcome == ProcessOutcome::failed_to_start);
  CHECK(e.error == "command not found: centrali-no-such-command-xyz");
  CHECK(e.exit_code == -1);

  auto abs = run_process(exec("/nonexistent/dir/prog"));
  CHECK(abs.outcome == ProcessOutcome::failed_to_start);
  CHECK(abs.error == "command not found: /nonexistent/dir/prog");

  auto s = run_process(shell("centrali-no-such-command-xyz --flag"));
  CHECK(s.outcome == ProcessOutcome::exited);
  CHECK(s.exit_code == 127);
  CHECK(s.error == "command not found: centrali-no-such-command-xyz");
  CHECK(s.err.find("not found") != std::string::npos);
}

TEST_CASE("triggers::run_process leaks no descriptors and no blocked signals into the child", "[process]")
{
  int leaky = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  REQUIRE(leaky >= 0);
  auto r = run_process(shell("ls /proc/$$/fd"));
  ::close(leaky);
  CHECK(r.out == "0\n1\n2\n");

  // A thread that blocks SIGTERM (as signal-handling threads do) must not
  // start children that cannot be terminated.
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &term, &old);
  auto k = run_process(shell("kill -TERM $$; sleep 5"));
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  CHECK(k.exit_code == 128 + SIGTERM);  // by the signal, not after the `sleep 5`
}

TEST_CASE("triggers::run_process runs many commands at once from different threads", "[process]")
{
  constexpr int k_threads = 8;
  constexpr int k_runs = 6;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t)
    threads.emplace_back([t, &ok] {
      for (int i = 0; i < k_runs; ++i) {
        auto tag = std::to_string(t) + "-" + std::to_string(i);
        auto spec = shell(R"(cat; printf '|%s' "$RUN_TAG"; echo "$RUN_TAG" >&2)");
        spec.stdin_data = std::string(100000 + t * 1000 + i, 'z') + tag;
        spec.env = {{"RUN_TAG", tag}};
        auto r = run_process(spec);
        if (r.outcome == ProcessOutcome::exited && r.exit_code == 0 && r.out == spec.stdin_data + "|" + tag &&
            r.err == tag + "\n")
          ++ok;
      }
    });
  for (auto& th : threads) th.join();
  CHECK(ok == k_threads * k_runs);
}
