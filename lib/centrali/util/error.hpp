#pragma once
// Errors as values. Every fallible library call returns Result<T>; the CLI
// turns an Error into a message and an exit code in exactly one place.
#include <expected>
#include <string>

namespace centrali {

// What kind of failure this is; each kind has one exit code (see exit_code).
enum class ErrorKind {
  rejected,   // the operation ran and said no (invalid signature, failed delivery)
  usage,      // the caller asked for something malformed
  not_found,  // a named thing does not exist
  store,      // the store cannot be opened, read or written
  network,    // a peer could not be reached or answered badly
};

// What a store failure (ErrorKind::store) says about the store, so callers
// can tell waiting from giving up: `locked` passes once another process
// lets go of the store; `broken` (corrupt file, I/O error, full disk,
// unwritable) does not pass by waiting; `unavailable` (a store's server that
// does not answer: down, restarting, out of reach) passes once it is back;
// `none` is any other failure.
enum class StoreFault { none, locked, broken, unavailable };

struct Error {
  ErrorKind kind;
  std::string message;  // says what failed and why, ready for a person
  StoreFault fault = StoreFault::none;
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(ErrorKind kind, std::string message)
{
  return std::unexpected(Error{kind, std::move(message)});
}

// 0 ok · 1 rejected · 2 usage · 3 not found · 4 store · 5 network.
constexpr int exit_code(ErrorKind kind)
{
  switch (kind) {
  case ErrorKind::rejected: return 1;
  case ErrorKind::usage: return 2;
  case ErrorKind::not_found: return 3;
  case ErrorKind::store: return 4;
  case ErrorKind::network: return 5;
  }
  return 1;
}

// Stable machine name of a kind, used in --json error objects.
constexpr const char* kind_name(ErrorKind kind)
{
  switch (kind) {
  case ErrorKind::rejected: return "rejected";
  case ErrorKind::usage: return "usage";
  case ErrorKind::not_found: return "not_found";
  case ErrorKind::store: return "store";
  case ErrorKind::network: return "network";
  }
  return "error";
}

} // namespace centrali
