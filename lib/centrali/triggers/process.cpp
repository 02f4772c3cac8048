#include "centrali/triggers/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

extern char** environ;

namespace centrali::triggers {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// After SIGTERM to the group, how long it gets before SIGKILL.
constexpr milliseconds k_kill_grace{500};
// After the command exits, how long output still in flight from processes it
// left behind may keep arriving before we stop listening.
constexpr milliseconds k_drain_grace{100};
// Without pidfd (kernels before 5.3) child exit is noticed by polling this often.
constexpr milliseconds k_exit_poll{20};
constexpr std::size_t k_read_chunk = 64 * 1024;
constexpr const char* k_default_path = "/usr/local/bin:/usr/bin:/bin";

// Which step of starting the child failed, for the error message.
enum Stage : int { stage_setup = 1, stage_chdir = 2, stage_exec = 3 };

std::string errno_text(int err)
{
  char buf[256];
  return strerror_r(err, buf, sizeof buf);  // GNU flavour: returns the text
}

class UniqueFd {
public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : m_fd(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : m_fd(std::exchange(o.m_fd, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept
  {
    if (this != &o) reset(std::exchange(o.m_fd, -1));
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return m_fd; }
  explicit operator bool() const { return m_fd >= 0; }
  void reset(int fd = -1)
  {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = fd;
  }

private:
  int m_fd = -1;
};

struct Pipe {
  UniqueFd read, write;
};

// A close-on-exec pipe whose ends are never 0, 1 or 2: when our own stdio is
// closed, pipe2 could hand those out and the child's dup2 onto 0–2 would then
// clobber them.
std::optional<Pipe> make_pipe()
{
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return std::nullopt;
  Pipe p{UniqueFd(fds[0]), UniqueFd(fds[1])};
  for (UniqueFd* end : {&p.read, &p.write}) {
    if (end->get() > 2) continue;
    int moved = ::fcntl(end->get(), F_DUPFD_CLOEXEC, 3);
    if (moved < 0) return std::nullopt;
    end->reset(moved);
  }
  return p;
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Everything the child needs, built before fork: between fork and exec only
// async-signal-safe calls are allowed, so no allocation happens there.
struct ExecPlan {
  std::vector<std::string> argv_text;
  std::vector<char*> argv;
  std::vector<std::string> candidates;  // paths to try in order (PATH search done ahead)
  std::vector<char*> sh_argv;           // `/bin/sh path args…` for scripts without #!
  std::vector<std::string> env_text;
  std::vector<char*> envp;
  std::string display_name;  // how error messages name the program
};

std::string_view env_name(std::string_view entry) { return entry.substr(0, entry.find('=')); }

Result<void> build_env(const ProcessSpec& spec, ExecPlan& plan)
{
  for (const auto& [name, value] : spec.env) {
    if (name.empty() || name.find('=') != std::string::npos || name.find('\0') != std::string::npos)
      return fail(ErrorKind::usage, "invalid environment variable name '" + name + "'");
    if (value.find('\0') != std::string::npos)
      return fail(ErrorKind::usage, "environment variable " + name + " contains a NUL byte");
  }
  auto overridden = [&](std::string_view name) {
    return std::any_of(spec.env.begin(), spec.env.end(), [&](const auto& kv) { return kv.first == name; });
  };
  auto withheld = [&](std::string_view name) {
    return std::find(spec.withheld_env.begin(), spec.withheld_env.end(), name) != spec.withheld_env.end();
  };
  for (char** e = environ; e && *e; ++e)
    if (!overridden(env_name(*e)) && !withheld(env_name(*e))) plan.env_text.emplace_back(*e);
  // Later entries of spec.env win over earlier ones with the same name.
  for (std::size_t i = 0; i < spec.env.size(); ++i) {
    bool later = std::any_of(spec.env.begin() + static_cast<std::ptrdiff_t>(i) + 1, spec.env.end(),
                             [&](const auto& kv) { return kv.first == spec.env[i].first; });
    if (!later) plan.env_text.push_back(spec.env[i].first + "=" + spec.env[i].second);
  }
  for (auto& s : plan.env_text) plan.envp.push_back(s.data());
  plan.envp.push_back(nullptr);
  return {};
}

std::string lookup_env(const ExecPlan& plan, std::string_view name)
{
  for (const auto& e : plan.env_text)
    if (env_name(e) == name) return e.substr(name.size() + 1);
  return {};
}

Result<ExecPlan> build_plan(const ProcessSpec& spec)
{
  ExecPlan plan;
  if (spec.command.find('\0') != std::string::npos) return fail(ErrorKind::usage, "command contains a NUL byte");
  if (auto env = build_env(spec, plan); !env) return std::unexpected(env.error());

  if (spec.mode == CommandMode::shell) {
    plan.argv_text = {"sh", "-c", spec.command};
    plan.candidates = {"/bin/sh"};
    plan.display_name = "/bin/sh";
  } else {
    auto words = split_command(spec.command);
    if (!words) return std::unexpected(words.error());
    plan.argv_text = std::move(*words);
    const std::string& name = plan.argv_text.front();
    plan.display_name = name;
    if (name.find('/') != std::string::npos) {
      // Relative paths resolve in the child, after its chdir.
      plan.candidates = {name};
    } else {
      // The child's PATH decides, as execvp would with the child's environment.
      std::string path = lookup_env(plan, "PATH");
      if (path.empty()) path = k_default_path;
      std::size_t start = 0;
      while (true) {
        auto colon = path.find(':', start);
        std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        plan.candidates.push_back((dir.empty() ? std::string(".") : dir) + "/" + name);
        if (colon == std::string::npos) break;
        start = colon + 1;
      }
    }
  }
  for (auto& s : plan.argv_text) plan.argv.push_back(s.data());
  plan.argv.push_back(nullptr);
  static char k_sh[] = "/bin/sh";
  plan.sh_argv.push_back(k_sh);
  plan.sh_argv.push_back(nullptr);  // the candidate path, filled in by the child
  for (std::size_t i = 1; i < plan.argv_text.size(); ++i) plan.sh_argv.push_back(plan.argv_text[i].data());
  plan.sh_argv.push_back(nullptr);
  return plan;
}

// --- Starting the child. -------------------------------------------------------

// posix_spawn rather than fork: glibc starts the child with
// clone(CLONE_VM | CLONE_VFORK), so no page tables are copied. A fork of a
// busy listener (tens of MiB resident, dozens of threads) cost more than the
// whole run of a small command. The attributes give the child what it needs:
// default dispositions for every signal (a parent's ignored SIGPIPE or
// blocked SIGTERM must not pass on), an empty mask, its own process group
// (so a timeout can signal everything the command starts), the working
// folder, the three pipes as 0-2, and no other descriptor, whatever other
// code in this process opened without O_CLOEXEC.
class SpawnSetup {
public:
  SpawnSetup(const std::string& cwd, int in_fd, int out_fd, int err_fd)
  {
    ::posix_spawnattr_init(&m_attr);
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    ::posix_spawnattr_setsigdefault(&m_attr, &all);
    ::posix_spawnattr_setsigmask(&m_attr, &none);
    ::posix_spawnattr_setpgroup(&m_attr, 0);
    ::posix_spawnattr_setflags(&m_attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
    ::posix_spawn_file_actions_init(&m_actions);
    if (!cwd.empty()) ::posix_spawn_file_actions_addchdir_np(&m_actions, cwd.c_str());
    ::posix_spawn_file_actions_adddup2(&m_actions, in_fd, 0);
    ::posix_spawn_file_actions_adddup2(&m_actions, out_fd, 1);
    ::posix_spawn_file_actions_adddup2(&m_actions, err_fd, 2);
    ::posix_spawn_file_actions_addclosefrom_np(&m_actions, 3);
  }
  ~SpawnSetup()
  {
    ::posix_spawn_file_actions_destroy(&m_actions);
    ::posix_spawnattr_destroy(&m_attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  // 0 and the child's pid, or the errno of the step that failed.
  int spawn(pid_t& pid, const char* path, char* const* argv, char* const* envp) const
  {
    return ::posix_spawn(&pid, path, &m_actions, &m_attr, argv, envp);
  }

private:
  posix_spawnattr_t m_attr{};
  posix_spawn_file_actions_t m_actions{};
};

// The child's pid, or why it could not start (stage and errno).
struct SpawnOutcome {
  pid_t pid = -1;
  int stage = 0;
  int err = 0;
};

SpawnOutcome spawn_child(ExecPlan& plan, const std::string& cwd, int in_fd, int out_fd, int err_fd)
{
  SpawnSetup setup(cwd, in_fd, out_fd, err_fd);
  // execvp's search, over paths prepared beforehand: skip the entries that
  // cannot hold the program, remember "permission denied" for the message.
  int err = ENOENT;
  bool denied = false;
  for (auto& path : plan.candidates) {
    pid_t pid = -1;
    int rc = setup.spawn(pid, path.c_str(), plan.argv.data(), plan.envp.data());
    if (rc == 0) return {pid, 0, 0};
    err = rc;
    if (rc == ENOEXEC) {
      // A script without #! runs under sh, as execvp does it.
      plan.sh_argv[1] = path.data();
      rc = setup.spawn(pid, "/bin/sh", plan.sh_argv.data(), plan.envp.data());
      if (rc == 0) return {pid, 0, 0};
      err = rc;
      break;
    }
    if (rc == EACCES) denied = true;
    else if (rc != ENOENT && rc != ENOTDIR && rc != ELOOP && rc != ENAMETOOLONG) break;
  }
  // posix_spawn reports a failed chdir with the same errno as a failed exec;
  // tell them apart by trying the folder from here.
  if (!cwd.empty()) {
    int dir = ::open(cwd.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return {-1, stage_chdir, errno};
    ::close(dir);
  }
  return {-1, stage_exec, (err == ENOENT || err == ENOTDIR) && denied ? EACCES : err};
}

// --- In the parent. ---------------------------------------------------------

// Blocks SIGPIPE in this thread while we write to the child's stdin: a child
// that exits without reading must give us EPIPE, not kill the whole program.
// A SIGPIPE raised by our own write is then taken off the pending set.
class SigpipeBlock {
public:
  SigpipeBlock()
  {
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &pipe_only, &m_old);
    sigset_t pending;
    ::sigpending(&pending);
    m_was_pending = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeBlock() { ::pthread_sigmask(SIG_SETMASK, &m_old, nullptr); }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

  void consume()
  {
    if (m_was_pending) return;
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    timespec zero{};
    while (::sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {}
  }

private:
  sigset_t m_old{};
  bool m_was_pending = false;
};

struct Capture {
  UniqueFd fd;
  std::string* text;
  bool* truncated;
  std::size_t limit;

  // Reads what is there now; beyond the limit bytes are read and dropped so the
  // child never blocks on a full pipe. A bounded number of reads per wake-up
  // keeps one busy stream from starving the others.
  void pump(std::string& buf)
  {
    for (int i = 0; i < 16 && fd; ++i) {
      ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) {
        fd.reset();
        return;
      }
      std::size_t room = limit - std::min(limit, text->size());
      std::size_t take = std::min(room, static_cast<std::size_t>(n));
      text->append(buf.data(), take);
      if (take < static_cast<std::size_t>(n)) *truncated = true;
    }
  }
};

// The leader's exit, observed without reaping it: an unreaped zombie keeps its
// pid, and with it the process-group id, from being reused while we may
// still signal the group.
bool leader_exited(pid_t pid)
{
  siginfo_t info{};
  while (true) {
    int rc = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    if (rc == 0) return info.si_pid == pid;
    if (errno == EINTR) continue;
    return true;  // ECHILD: someone else reaped it (SIGCHLD ignored); it is gone either way
  }
}

void signal_group(pid_t pid, int sig)
{
  ::kill(-pid, sig);
  // The leader too, in case it left the group (setsid).
  ::kill(pid, sig);
}

int reap(pid_t pid)
{
  int status = 0;
  while (true) {
    pid_t r = ::waitpid(pid, &status, 0);
    if (r == pid) break;
    if (r < 0 && errno == EINTR) continue;
    return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string exec_error(const ExecPlan& plan, const std::string& cwd, int stage, int err)
{
  switch (stage) {
  case stage_chdir: return "cannot chdir to " + cwd + ": " + errno_text(err);
  case stage_exec:
    if (err == ENOENT || err == ENOTDIR) return "command not found: " + plan.display_name;
    return "cannot execute " + plan.display_name + ": " + errno_text(err);
  default: return "cannot start command: " + errno_text(err);
  }
}

// Shells report a missing program as exit 127 and "sh: 1: foo: not found".
std::string shell_error(int exit_code, const std::string& err)
{
  if (exit_code != 127 && exit_code != 126) return {};
  std::string_view text = err;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    auto line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (exit_code == 127) {
      for (std::string_view suffix : {": command not found", ": not found"}) {
        if (!line.ends_with(suffix)) continue;
        auto head = line.substr(0, line.size() - suffix.size());
        auto colon = head.rfind(": ");
        return "command not found: " + std::string(colon == std::string_view::npos ? head : head.substr(colon + 2));
      }
    } else if (line.ends_with(": Permission denied")) {
      return "command not executable: " + std::string(line);
    }
  }
  return {};
}

} // namespace

Result<std::vector<std::string>> split_command(std::string_view command)
{
  constexpr auto npos = std::string_view::npos;
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  std::size_t i = 0;
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (i < command.size()) {
    char c = command[i];
    if (is_space(c)) {
      if (in_word) words.push_back(std::exchange(word, {}));
      in_word = false;
      ++i;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      auto end = command.find('\'', i + 1);
      if (end == std::string_view::npos)
        return fail(ErrorKind::usage, "invalid command: unterminated single quote in '" + std::string(command) + "'");
      word.append(command.substr(i + 1, end - i - 1));
      i = end + 1;
    } else if (c == '"') {
      ++i;
      while (true) {
        if (i >= command.size())
          return fail(ErrorKind::usage, "invalid command: unterminated double quote in '" + std::string(command) + "'");
        char d = command[i];
        if (d == '"') {
          ++i;
          break;
        }
        // Inside "…" a backslash only escapes what the shell would: " \ $ `.
        bool escapable = i + 1 < command.size() && std::string_view("\"\\$`").find(command[i + 1]) != npos;
        if (d == '\\' && escapable) {
          word += command[i + 1];
          i += 2;
          continue;
        }
        word += d;
        ++i;
      }
    } else if (c == '\\') {
      if (i + 1 >= command.size())
        return fail(ErrorKind::usage, "invalid command: trailing backslash in '" + std::string(command) + "'");
      word += command[i + 1];
      i += 2;
    } else {
      word += c;
      ++i;
    }
  }
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) return fail(ErrorKind::usage, "invalid command: it is empty");
  return words;
}

ProcessResult run_process(const ProcessSpec& spec)
{
  ProcessResult result;
  const auto started = Clock::now();
  auto finish = [&](ProcessResult& r) -> ProcessResult {
    r.duration_ms = std::chrono::duration_cast<milliseconds>(Clock::now() - started).count();
    return std::move(r);
  };
  auto start_failed = [&](std::string why) {
    result.outcome = ProcessOutcome::failed_to_start;
    result.error = std::move(why);
    return finish(result);
  };

  auto plan = build_plan(spec);
  if (!plan) return start_failed(plan.error().message);

  auto in = make_pipe();
  auto out = make_pipe();
  auto err = make_pipe();
  if (!in || !out || !err) return start_failed("cannot start command: pipe: " + errno_text(errno));

  SigpipeBlock sigpipe;
  auto started_child = spawn_child(*plan, spec.cwd, in->read.get(), out->write.get(), err->write.get());
  if (started_child.pid < 0)
    return start_failed(exec_error(*plan, spec.cwd, started_child.stage, started_child.err));
  const pid_t pid = started_child.pid;

  // Set the group from this side too, so it exists before we could signal it
  // (a no-op when the child already did; EACCES once it has exec'd).
  ::setpgid(pid, pid);
  in->read.reset();
  out->write.reset();
  err->write.reset();

  // A pidfd turns "the child exited" into a pollable event. Called through
  // syscall(): glibc 2.36's <sys/pidfd.h> lacks extern "C" and will not link.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  UniqueFd stdin_fd = std::move(in->write);
  std::size_t written = 0;
  if (spec.stdin_data.empty()) stdin_fd.reset();
  else set_nonblocking(stdin_fd.get());
  Capture captures[2] = {{std::move(out->read), &result.out, &result.out_truncated, spec.max_output},
                         {std::move(err->read), &result.err, &result.err_truncated, spec.max_output}};
  for (auto& c : captures) set_nonblocking(c.fd.get());

  // One read buffer per thread for good: a fresh 64 KiB per run cost a page
  // fault per 4 KiB once the allocator had handed the pages back.
  thread_local std::string buf(k_read_chunk, '\0');
  const auto deadline = started + spec.timeout;
  bool exited = false;
  bool timed_out = false;
  std::optional<Clock::time_point> stop_at;  // set once exited: stop waiting for output then

  auto write_stdin = [&] {
    while (stdin_fd && written < spec.stdin_data.size()) {
      std::size_t n = std::min<std::size_t>(spec.stdin_data.size() - written, k_read_chunk);
      ssize_t w = ::write(stdin_fd.get(), spec.stdin_data.data() + written, n);
      if (w > 0) {
        written += static_cast<std::size_t>(w);
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      // EPIPE: the child closed stdin without reading it all, which is its right.
      if (w < 0 && errno == EPIPE) sigpipe.consume();
      stdin_fd.reset();
    }
    stdin_fd.reset();  // all written: EOF tells the child there is no more
  };

  while (true) {
    auto now = Clock::now();
    if (!exited && (exited = leader_exited(pid))) {
      stdin_fd.reset();
      pidfd.reset();
      stop_at = now + k_drain_grace;
    }
    bool outputs_open = captures[0].fd || captures[1].fd;
    if (exited && (!outputs_open || now >= *stop_at)) break;

    if (!exited && now >= deadline) {
      // Timeout: ask the whole group to stop, give it a grace, then force it.
      timed_out = true;
      signal_group(pid, SIGTERM);
      const auto kill_at = now + k_kill_grace;
      while (Clock::now() < kill_at && (!exited || captures[0].fd || captures[1].fd)) {
        pollfd fds[2];
        nfds_t count = 0;
        for (auto& c : captures)
          if (c.fd) fds[count++] = {c.fd.get(), POLLIN, 0};
        int wait_ms = static_cast<int>(std::min<std::int64_t>(
            k_exit_poll.count(),
            std::chrono::duration_cast<milliseconds>(kill_at - Clock::now()).count() + 1));
        ::poll(fds, count, std::max(wait_ms, 0));
        for (auto& c : captures) c.pump(buf);
        if (!exited) exited = leader_exited(pid);
      }
      // Unconditionally: processes that ignored SIGTERM, or outlived the
      // leader, go too. The unreaped leader keeps the group id ours.
      signal_group(pid, SIGKILL);
      // Keep what was already written, but do not wait for EOF: a process
      // that escaped the group (setsid) may hold the pipes open for good.
      for (auto& c : captures) c.pump(buf);
      break;
    }

    pollfd fds[4];
    nfds_t count = 0;
    int stdin_slot = -1, capture_slot[2] = {-1, -1};
    if (stdin_fd) {
      stdin_slot = static_cast<int>(count);
      fds[count++] = {stdin_fd.get(), POLLOUT, 0};
    }
    for (int i = 0; i < 2; ++i)
      if (captures[i].fd) {
        capture_slot[i] = static_cast<int>(count);
        fds[count++] = {captures[i].fd.get(), POLLIN, 0};
      }
    if (pidfd) fds[count++] = {pidfd.get(), POLLIN, 0};  // readable once the child exits
    auto until = exited ? *stop_at : deadline;
    auto wait = std::chrono::duration_cast<milliseconds>(until - now) + milliseconds(1);
    if (!exited && !pidfd) wait = std::min(wait, k_exit_poll);
    int rc = ::poll(fds, count, static_cast<int>(std::max<std::int64_t>(wait.count(), 0)));
    if (rc < 0) continue;  // EINTR; anything else would recur and the deadline still bounds us
    if (stdin_slot >= 0 && fds[stdin_slot].revents) write_stdin();
    for (int i = 0; i < 2; ++i)
      if (capture_slot[i] >= 0 && fds[capture_slot[i]].revents) captures[i].pump(buf);
  }

  result.exit_code = reap(pid);
  result.outcome = timed_out ? ProcessOutcome::timed_out : ProcessOutcome::exited;
  if (!timed_out && spec.mode == CommandMode::shell) result.error = shell_error(result.exit_code, result.err);
  return finish(result);
}

} // namespace centrali::triggers
