#pragma once
// Implementation of store::guarded (included from store.hpp).
#include <string_view>
#include <utility>

#include <SQLiteCpp/Exception.h>

namespace centrali::store {

template <class Fn>
auto guarded(std::string_view what, std::string_view subject, Fn&& fn) -> decltype(fn())
{
  try {
    return fn();
  } catch (const SQLite::Exception& e) {
    return std::unexpected(Error{ErrorKind::store,
                                 std::string(what).append(subject) + ": " +
                                     describe_sqlite_error(e.getErrorCode(), e.getExtendedErrorCode(), e.what()),
                                 sqlite_fault(e.getErrorCode())});
  } catch (const std::exception& e) {
    return fail(ErrorKind::store, std::string(what).append(subject) + ": " + e.what());
  }
}

template <class Fn>
auto guarded(const std::string& context, Fn&& fn) -> decltype(fn())
{
  return guarded(context, std::string_view(), std::forward<Fn>(fn));
}

} // namespace centrali::store
