#include "centrali/store/file_safety.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace fs = std::filesystem;

namespace centrali::store {
namespace {

constexpr const char* k_why = "it holds commands that triggers run";

std::string octal_mode(mode_t mode)
{
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

bool writable_by_others(const struct stat& st)
{
  return (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

bool owned_by_someone_else(const struct stat& st)
{
  return st.st_uid != ::geteuid();
}

std::string owner_text(const struct stat& st)
{
  return "is owned by another user (uid " + std::to_string(st.st_uid) + "; you are uid " +
         std::to_string(::geteuid()) + ")";
}

// What cannot be inspected is left to the open that follows: it fails with
// its own, more precise message (missing, a file in the way, no access).
bool inspect(const fs::path& p, struct stat& st, bool follow_links)
{
  return (follow_links ? ::stat(p.c_str(), &st) : ::lstat(p.c_str(), &st)) == 0;
}

Result<void> check_store_file(const fs::path& file)
{
  struct stat st{};
  if (!inspect(file, st, true)) return {};
  const std::string name = file.string();
  if (owned_by_someone_else(st))
    return fail(ErrorKind::store, "store " + name + " " + owner_text(st) + "; " + k_why +
                                      ": use a store of your own (--store PATH), or if you trust this one, chown " +
                                      std::to_string(::geteuid()) + " " + name);
  if (writable_by_others(st))
    return fail(ErrorKind::store, "store " + name + " is writable by group or others (mode " + octal_mode(st.st_mode) +
                                      "); " + k_why + ": chmod 600 " + name);
  return {};
}

// SQLite reads the -wal, its -shm index and a hot -journal as part of the
// database, so a planted one is as good as a planted store.
Result<void> check_side_file(const fs::path& file)
{
  struct stat st{};
  if (!inspect(file, st, true)) return {};
  const std::string name = file.string();
  const std::string why = "; SQLite reads it as part of the store, which holds commands that triggers run: ";
  if (owned_by_someone_else(st))
    return fail(ErrorKind::store, "store file " + name + " " + owner_text(st) + why +
                                      "if you trust it, chown " + std::to_string(::geteuid()) + " " + name +
                                      "; if not, remove it while no centrali uses the store");
  if (writable_by_others(st))
    return fail(ErrorKind::store, "store file " + name + " is writable by group or others (mode " +
                                      octal_mode(st.st_mode) + ")" + why + "chmod 600 " + name);
  return {};
}

// The default folder, ./.centrali, is found by whoever runs centrali in a
// folder (a checkout, a shared workspace): a link or a folder planted there
// must not silently stand in for the user's own store.
Result<void> check_default_folder(const fs::path& dir, const fs::path& file)
{
  struct stat st{};
  if (!inspect(dir, st, false)) return {};
  const std::string name = dir.string();
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    auto target = fs::canonical(dir, ec);
    std::string where = ec ? fs::read_symlink(dir, ec).string() : target.string();
    std::string fix = ec ? "replace the link with a folder"
                         : "name the store itself, --store " + (target / file.filename()).string() +
                               ", or replace the link with a folder";
    return fail(ErrorKind::store, "store folder " + name + " is a symbolic link (to " + where +
                                      "); the default store folder must be a real folder, since " + k_why + ": " + fix);
  }
  if (!S_ISDIR(st.st_mode)) return {};  // Store::open says a file is in the way
  if (owned_by_someone_else(st))
    return fail(ErrorKind::store, "store folder " + name + " " + owner_text(st) + "; " + k_why +
                                      ": use a store of your own (--store PATH), or if you trust this one, chown " +
                                      std::to_string(::geteuid()) + " " + name);
  if (writable_by_others(st))
    return fail(ErrorKind::store, "store folder " + name + " is writable by group or others (mode " +
                                      octal_mode(st.st_mode) + "), so they could swap the store, and " + k_why +
                                      ": chmod 700 " + name);
  return {};
}

// Any other folder may be shared, like /tmp: the sticky bit keeps others
// from renaming or removing the store there, and the file itself is checked.
Result<void> check_folder(const fs::path& dir)
{
  struct stat st{};
  if (!inspect(dir, st, true) || !S_ISDIR(st.st_mode)) return {};
  if (!writable_by_others(st) || (st.st_mode & S_ISVTX) != 0) return {};
  std::error_code ec;
  auto shown = dir == "." ? fs::current_path(ec) : dir;
  if (ec) shown = dir;
  return fail(ErrorKind::store, "store folder " + shown.string() + " is writable by group or others (mode " +
                                    octal_mode(st.st_mode) + ") and not sticky, so they could swap the store, and " +
                                    k_why + ": chmod go-w " + shown.string() + ", or keep the store elsewhere");
}

} // namespace

Result<void> check_store_safety(const fs::path& path)
{
  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  if (dir.filename() == ".centrali") {
    if (auto r = check_default_folder(dir, path); !r) return r;
  } else if (auto r = check_folder(dir); !r) {
    return r;
  }
  if (auto r = check_store_file(path); !r) return r;
  for (const char* suffix : {"-wal", "-shm", "-journal"})
    if (auto r = check_side_file(fs::path(path.string() + suffix)); !r) return r;
  return {};
}

} // namespace centrali::store
