#pragma once
// HTTP header lists as received: order and duplicates kept, names compared
// case-insensitively. Shared by the http, ingest, delivery and store layers.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "centrali/util/error.hpp"

namespace centrali {

struct HeaderField {
  std::string name;
  std::string value;
};
using HeaderList = std::vector<HeaderField>;

bool iequals(std::string_view a, std::string_view b);

// A header value without the spaces and tabs around it (HTTP's OWS).
std::string_view trim_ows(std::string_view s);
// Whether a comma-separated header value (Connection, Transfer-Encoding)
// lists `token`, compared case-insensitively.
bool lists_token(std::string_view value, std::string_view token);

// `Name: value` (as given to --header) -> a field; usage error when there
// is no colon, the name is empty or not a valid token, or the value holds
// CR/LF (which would smuggle in another header).
Result<HeaderField> parse_header_line(std::string_view line);

// Whether a header may be written into an HTTP/1.1 message as it is: the
// name is a non-empty token and the value holds no CR, LF or NUL. Anything
// else would end the header early, and what follows would become another
// header (or another request) at the receiver. Every path that sends
// headers (server responses, both clients) refuses what fails this.
bool is_sendable_header(std::string_view name, std::string_view value);
bool is_header_token(std::string_view name);
// A header value without CR, LF or NUL.
bool is_sendable_header_value(std::string_view value);
// Why `headers` cannot be sent ("refused to send header 'X': its value
// holds a line break or NUL"); empty when every one can.
std::string unsendable_header(const HeaderList& headers);

// First value of `name`, or nullptr.
const std::string* find_header(const HeaderList& headers, std::string_view name);

// Headers that frame one HTTP message on one connection (Host,
// Content-Length, Transfer-Encoding, Connection, Keep-Alive, TE, Trailer,
// Upgrade, Expect, Proxy-Connection): whoever sends the message sets them,
// so copies from elsewhere (a stored request, a webhook's custom headers)
// are never sent.
bool is_framing_header(std::string_view name);

// Headers whose values are credentials (Authorization, Cookie, API keys):
// stored and shown as "[redacted]".
bool is_credential_header(std::string_view name);
HeaderList redact_credentials(HeaderList headers);

// [[name, value], ...] — the stored and --json form.
nlohmann::json headers_to_json(const HeaderList& headers);
// The same as compact JSON text, written directly (ingestion's hot path).
std::string headers_to_json_text(const HeaderList& headers);
HeaderList headers_from_json(const nlohmann::json& value);

} // namespace centrali
