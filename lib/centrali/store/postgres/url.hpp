#pragma once
// PostgreSQL store locations (`postgresql://user:password@host:port/db?...`)
// and keeping their passwords out of every message that shows one.
#include <string>
#include <string_view>

namespace centrali::store::postgres {

// Whether `location` names a PostgreSQL store rather than a SQLite file.
bool is_postgres_url(std::string_view location);

// `url` with its password (in `user:password@` and in any `password=`
// parameter) replaced by `***`: the form every message shows.
std::string redact_postgres_url(std::string_view url);

// `text` (a driver's message) with the password of `url`, as written and
// percent-decoded, and any `password=` value replaced by `***`.
std::string hide_password(std::string_view text, std::string_view url);

} // namespace centrali::store::postgres
