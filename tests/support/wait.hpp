#pragma once
// Waiting for a condition instead of sleeping for a guess: polls `done`
// until it holds or `limit` passes. The caller asserts on the result, so a
// condition that never comes fails the test (with its message) instead of
// hanging until ctest's timeout or passing on a fast machine only.
#include <chrono>
#include <thread>

namespace testing {

template <class Predicate>
bool wait_until(Predicate&& done, std::chrono::milliseconds limit = std::chrono::seconds(20),
                std::chrono::milliseconds every = std::chrono::milliseconds(10))
{
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(every);
  }
  return true;
}

} // namespace testing
