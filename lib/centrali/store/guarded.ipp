#pragma once
// Implementation of store::guarded (included from store.hpp).
#include <SQLiteCpp/Exception.h>

namespace centrali::store {

template <class Fn>
auto guarded(const std::string& context, Fn&& fn) -> decltype(fn())
{
  try {
    return fn();
  } catch (const SQLite::Exception& e) {
    return fail(ErrorKind::store,
                context + ": " + describe_sqlite_error(e.getErrorCode(), e.getExtendedErrorCode(), e.what()));
  } catch (const std::exception& e) {
    return fail(ErrorKind::store, context + ": " + e.what());
  }
}

} // namespace centrali::store
