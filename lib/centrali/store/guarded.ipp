#pragma once
// Implementation of store::guarded (included from store.hpp).
#include <string_view>
#include <utility>

namespace centrali::store {

template <class Fn>
auto guarded(std::string_view what, std::string_view subject, Fn&& fn) -> decltype(fn())
{
  try {
    return fn();
  } catch (const DatabaseError& e) {
    return std::unexpected(Error{ErrorKind::store, std::string(what).append(subject) + ": " + e.what(), e.fault()});
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
