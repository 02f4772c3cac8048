// The ceiling for endpoint triggers: how many `/bin/sh -c CMD` processes
// this machine can start, feed and reap per second, from THREADS threads,
// with no HTTP and no store. Prints "<spawns per second>".
//   bench_spawn CMD SECONDS THREADS
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

int main(int argc, char** argv)
{
  if (argc != 4) {
    std::fprintf(stderr, "usage: bench_spawn CMD SECONDS THREADS\n");
    return 2;
  }
  std::string cmd = argv[1];
  double seconds = std::atof(argv[2]);
  int threads = std::atoi(argv[3]);
  std::atomic<long> done{0};
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  auto worker = [&] {
    while (std::chrono::steady_clock::now() < until) {
      int out[2];
      if (::pipe2(out, O_CLOEXEC) != 0) return;
      posix_spawn_file_actions_t actions;
      ::posix_spawn_file_actions_init(&actions);
      ::posix_spawn_file_actions_adddup2(&actions, out[1], 1);
      const char* args[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
      pid_t pid;
      int rc = ::posix_spawn(&pid, "/bin/sh", &actions, nullptr, const_cast<char* const*>(args), environ);
      ::posix_spawn_file_actions_destroy(&actions);
      ::close(out[1]);
      if (rc != 0) {
        ::close(out[0]);
        return;
      }
      char buf[4096];
      while (::read(out[0], buf, sizeof buf) > 0) {
      }
      ::close(out[0]);
      int status;
      ::waitpid(pid, &status, 0);
      ++done;
    }
  };
  std::vector<std::thread> pool;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < threads; ++i) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%.0f\n", static_cast<double>(done.load()) / elapsed);
}
