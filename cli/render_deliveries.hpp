#pragma once
// How deliveries and attempts look, shared by `deliveries`, `webhooks
// resend|replay|test` and `events show`: one JSON shape, one table shape.
#include <nlohmann/json.hpp>

#include "centrali/delivery/attempt.hpp"
#include "centrali/store/deliveries.hpp"
#include "output.hpp"

namespace centrali::cli {

nlohmann::json delivery_json(const store::Delivery& d);
// Everything recorded about an attempt (request headers with secrets redacted).
nlohmann::json attempt_json(const store::Attempt& a);
// "HTTP 200" or the network error.
std::string attempt_outcome(const store::Attempt& a);
// One line for people: "att_… #2 resend -> http://…: HTTP 500 (12ms)".
std::string attempt_line(Output& out, const store::Attempt& a);
// " (clock fast-forwarded by 42m)" for an attempt made under a jumped clock
// (`dispatch --fast-forward`), else nothing.
std::string fast_forward_note(const store::Attempt& a);

} // namespace centrali::cli
