#pragma once
// Stores events straight into a store, through the library, for binary
// tests that need more events than a process per `events emit` allows.
#include <string>

namespace testing {

// `count` accepted local events of `type` (bodies {"n":0}, {"n":1}, …),
// waiting for fan-out as `events emit` leaves them. Fails the test on error.
void store_local_events(const std::string& store_path, const std::string& type, int count);

} // namespace testing
