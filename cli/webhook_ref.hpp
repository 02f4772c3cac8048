#pragma once
// How people name a webhook on the command line: by id or by name.
#include <string>

#include "centrali/store/store.hpp"
#include "centrali/util/error.hpp"

namespace centrali::cli {

// The webhook id a `--webhook` filter stands for: a webhook's id or name, or
// the id of a removed webhook whose deliveries are still in the log.
// not_found (exit 3) otherwise: a mistyped filter must not list nothing.
Result<std::string> webhook_filter_id(store::Store& store, const std::string& given);

} // namespace centrali::cli
