// An LD_PRELOAD shim that records, in the order they happen, the calls that
// decide whether an acknowledged event survives a power cut:
//   W <marker>  a write to the store's write-ahead log whose bytes contain
//               a test marker ("durab-NNNNNN"), i.e. the event's WAL frame;
//   S           an fsync/fdatasync of the write-ahead log;
//   A           an HTTP response starting "HTTP/1.1 202" sent on a socket.
// The durability test (tests/cli/test_cli_durability.cpp) reads the log and
// checks that every event's last WAL frame was synced before its 202 went
// out. It needs no cooperation from centrali: it sees what SQLite and the
// server actually asked the kernel to do.
//
// The log file is named by CENTRALI_FSYNC_LOG; each record is one write(2)
// with O_APPEND, so records from concurrent threads never interleave.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr char k_marker[] = "durab-";
constexpr std::size_t k_marker_digits = 6;

int log_fd()
{
  static int fd = [] {
    const char* path = std::getenv("CENTRALI_FSYNC_LOG");
    if (!path) return -1;
    return static_cast<int>(syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  }();
  return fd;
}

void record(const char* line, std::size_t n)
{
  int fd = log_fd();
  if (fd >= 0) syscall(SYS_write, fd, line, n);
}

bool is_wal(int fd)
{
  char link[64];
  char target[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n < 4) return false;
  return std::memcmp(target + n - 4, "-wal", 4) == 0;
}

// Records one "W durab-NNNNNN" line per marker found in a WAL write.
void record_wal_write(int fd, const void* buf, std::size_t count)
{
  if (log_fd() < 0 || !is_wal(fd)) return;
  const char* p = static_cast<const char*>(buf);
  const char* end = p + count;
  const std::size_t want = sizeof k_marker - 1 + k_marker_digits;
  while (p < end) {
    auto* hit = static_cast<const char*>(memmem(p, static_cast<std::size_t>(end - p), k_marker, sizeof k_marker - 1));
    if (!hit || static_cast<std::size_t>(end - hit) < want) break;
    char line[32] = "W ";
    std::memcpy(line + 2, hit, want);
    line[2 + want] = '\n';
    record(line, 3 + want);
    p = hit + want;
  }
}

void record_sync(int fd)
{
  if (log_fd() >= 0 && is_wal(fd)) record("S\n", 2);
}

void record_send(const void* buf, std::size_t count)
{
  constexpr char accepted[] = "HTTP/1.1 202";
  if (count >= sizeof accepted - 1 && std::memcmp(buf, accepted, sizeof accepted - 1) == 0) record("A\n", 2);
}

template <typename F>
F next(const char* name)
{
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

} // namespace

extern "C" {

ssize_t pwrite64(int fd, const void* buf, size_t count, off64_t offset)
{
  static auto real = next<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
  ssize_t n = real(fd, buf, count, offset);
  if (n > 0) record_wal_write(fd, buf, static_cast<std::size_t>(n));
  return n;
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset)
{
  static auto real = next<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  ssize_t n = real(fd, buf, count, offset);
  if (n > 0) record_wal_write(fd, buf, static_cast<std::size_t>(n));
  return n;
}

ssize_t write(int fd, const void* buf, size_t count)
{
  static auto real = next<ssize_t (*)(int, const void*, size_t)>("write");
  ssize_t n = real(fd, buf, count);
  if (n > 0) record_wal_write(fd, buf, static_cast<std::size_t>(n));
  return n;
}

int fsync(int fd)
{
  static auto real = next<int (*)(int)>("fsync");
  int r = real(fd);
  if (r == 0) record_sync(fd);
  return r;
}

int fdatasync(int fd)
{
  static auto real = next<int (*)(int)>("fdatasync");
  int r = real(fd);
  if (r == 0) record_sync(fd);
  return r;
}

// Recorded before the real send: a response handed to the kernel may reach
// the client at once, so "before" is the order that matters.
ssize_t send(int fd, const void* buf, size_t count, int flags)
{
  static auto real = next<ssize_t (*)(int, const void*, size_t, int)>("send");
  record_send(buf, count);
  return real(fd, buf, count, flags);
}

} // extern "C"
