#pragma once
// Whether a store is safe to open. The store holds the shell commands that
// triggers run, so a store that someone else can write, or swap for one of
// their own, would let them run commands as whoever runs centrali.
#include <filesystem>

#include "centrali/util/error.hpp"

namespace centrali::store {

// Refuses (ErrorKind::store; the message says what is wrong and the command
// that fixes it) a store file, or its -wal, -shm or -journal file, that is
// owned by anyone but the effective user or is writable by group or others.
// The folder must not be writable by group or others unless sticky (like
// /tmp, where nobody can replace another's file). A folder named .centrali
// (the default ./.centrali/centrali.db) must moreover be a real folder, not
// a symbolic link, owned by the effective user and writable by nobody else.
// What does not exist yet passes: Store::open creates it private.
Result<void> check_store_safety(const std::filesystem::path& path);

} // namespace centrali::store
