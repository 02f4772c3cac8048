#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace testing {
namespace {

std::vector<std::string> build_env(const RunOptions& options)
{
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  // Tests never inherit a store from the developer's shell.
  env.erase("CENTRALI_STORE");
  for (const auto& name : options.unset_env) env.erase(name);
  for (const auto& [k, v] : options.env) env[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

int decode_status(int status)
{
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// fork+exec with the given fds as 0/1/2.
int spawn(const std::vector<std::string>& argv, const RunOptions& options, int in_fd, int out_fd, int err_fd)
{
  auto env = build_env(options);
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    setpgid(0, 0);
    dup2(in_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) _exit(126);
    execve(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  return pid;
}

} // namespace

std::string centrali_binary()
{
  return CENTRALI_BINARY;
}

RunResult run(const std::vector<std::string>& argv, const RunOptions& options)
{
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) || pipe2(out_pipe, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC))
    throw std::runtime_error("pipe failed");
  pid_t pid = spawn(argv, options, in_pipe[0], out_pipe[1], err_pipe[1]);
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  signal(SIGPIPE, SIG_IGN);

  RunResult result;
  std::size_t written = 0;
  int in_fd = in_pipe[1];
  if (options.stdin_data.empty()) {
    close(in_fd);
    in_fd = -1;
  } else {
    fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    std::vector<pollfd> fds;
    if (out_open) fds.push_back({out_pipe[0], POLLIN, 0});
    if (err_open) fds.push_back({err_pipe[0], POLLIN, 0});
    if (in_fd >= 0) fds.push_back({in_fd, POLLOUT, 0});
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      kill(-pid, SIGKILL);
      break;
    }
    poll(fds.data(), fds.size(), static_cast<int>(std::min<long>(left.count(), 1000)));
    for (auto& p : fds) {
      if (!p.revents) continue;
      if (p.fd == in_fd) {
        auto n = write(in_fd, options.stdin_data.data() + written, options.stdin_data.size() - written);
        if (n > 0) written += static_cast<std::size_t>(n);
        if (n < 0 || written == options.stdin_data.size()) {
          close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      char buf[65536];
      auto n = read(p.fd, buf, sizeof buf);
      if (n <= 0) {
        (p.fd == out_pipe[0] ? out_open : err_open) = false;
        continue;
      }
      (p.fd == out_pipe[0] ? result.out : result.err).append(buf, static_cast<std::size_t>(n));
    }
  }
  if (in_fd >= 0) close(in_fd);
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = decode_status(status);
  return result;
}

RunResult centrali(const std::vector<std::string>& args, const RunOptions& options)
{
  std::vector<std::string> argv{centrali_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, options);
}

TempDir::TempDir()
{
  std::random_device rd;
  auto base = std::filesystem::temp_directory_path();
  for (int i = 0; i < 100; ++i) {
    auto candidate = base / ("centrali-test-" + std::to_string(rd()));
    if (std::filesystem::create_directory(candidate)) {
      m_path = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create temp dir");
}

const std::string& TempDir::store() const
{
  if (!m_store) m_store = std::make_unique<TestStore>(m_path);
  return m_store->location();
}

TempDir::~TempDir()
{
  m_store.reset();
  std::error_code ec;
  // Tests may have made parts read-only; give write back before removing.
  for (auto it = std::filesystem::recursive_directory_iterator(m_path, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
  std::filesystem::remove_all(m_path, ec);
}

Background::Background(const std::vector<std::string>& argv, const RunOptions& options)
{
  int out_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC)) throw std::runtime_error("pipe failed");
  char tmpl[] = "/tmp/centrali-test-stderr-XXXXXX";
  int err_fd = mkstemp(tmpl);
  m_err_file = tmpl;
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  m_pid = spawn(argv, options, null_fd, out_pipe[1], options.stderr_fd >= 0 ? options.stderr_fd : err_fd);
  close(null_fd);
  close(err_fd);
  close(out_pipe[1]);
  m_out_fd = out_pipe[0];
}

Background::~Background()
{
  if (!m_status && m_pid > 0) {
    kill(-m_pid, SIGKILL);
    int status;
    waitpid(m_pid, &status, 0);
  }
  if (m_out_fd >= 0) close(m_out_fd);
  std::error_code ec;
  std::filesystem::remove(m_err_file, ec);
}

std::optional<std::string> Background::read_line(std::chrono::milliseconds timeout)
{
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto nl = m_buffer.find('\n');
    if (nl != std::string::npos) {
      auto line = m_buffer.substr(0, nl);
      m_buffer.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{m_out_fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
    char buf[4096];
    auto n = read(m_out_fd, buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    m_buffer.append(buf, static_cast<std::size_t>(n));
  }
}

int Background::stop(int sig, std::chrono::milliseconds timeout)
{
  if (m_status) return decode_status(*m_status);
  kill(m_pid, sig);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status;
    if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
      m_status = status;
      return decode_status(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(-m_pid, SIGKILL);
  int status;
  waitpid(m_pid, &status, 0);
  m_status = status;
  return -1;  // did not stop in time
}

bool Background::exited()
{
  if (m_status) return true;
  int status;
  if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
    m_status = status;
    return true;
  }
  return false;
}

std::string Background::err() const
{
  std::ifstream in(m_err_file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string url_in_line(const std::string& line)
{
  auto pos = line.find("http://");
  if (pos == std::string::npos) return {};
  auto end = line.find_first_of(" \t\r\n", pos);
  return line.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

} // namespace testing
