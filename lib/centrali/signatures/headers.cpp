// Header parsing shared by every scheme: case-insensitive lookups, one value
// per header, bounded sizes, and Unix timestamps that cannot overflow.
#include <charconv>

#include "centrali/signatures/detail.hpp"


namespace centrali::sig::detail {

std::string_view trim(std::string_view text)
{
  // HTTP's optional whitespace is spaces and tabs; CR/LF too, for values
  // pasted from a raw request.
  constexpr std::string_view k_space = " \t\r\n";
  auto first = text.find_first_not_of(k_space);
  if (first == std::string_view::npos) return {};
  auto last = text.find_last_not_of(k_space);
  return text.substr(first, last - first + 1);
}

std::string quote_short(std::string_view text, std::size_t max)
{
  std::string out = "'";
  std::size_t shown = 0;
  for (unsigned char c : text) {
    if (shown == max) {
      out += "…";
      break;
    }
    if (c < 0x20 || c == 0x7f) {
      static constexpr char k_hex[] = "0123456789abcdef";
      out += "\\x";
      out += k_hex[c >> 4];
      out += k_hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
    ++shown;
  }
  out += "'";
  return out;
}

Verdict reject(Failure failure, std::string reason)
{
  Verdict v;
  v.failure = failure;
  v.reason = std::move(reason);
  return v;
}

std::expected<std::optional<std::string_view>, Verdict> optional_header(const HeaderList& headers,
                                                                       std::string_view name)
{
  std::optional<std::string_view> found;
  std::size_t count = 0;
  bool differ = false;
  for (const auto& h : headers) {
    if (!iequals(h.name, name)) continue;
    auto value = trim(h.value);
    // Checked before anything else reads the value, so no parser ever walks
    // an oversized header.
    if (h.value.size() > k_max_header_value)
      return std::unexpected(reject(Failure::malformed_header, std::string(name) + " is " +
                                                                   std::to_string(h.value.size()) +
                                                                   " bytes long; the limit is " +
                                                                   std::to_string(k_max_header_value)));
    ++count;
    if (!found) found = value;
    else if (*found != value) differ = true;
  }
  // Two different values leave it unclear which one was signed; identical
  // repeats (a proxy copying a header) change nothing.
  if (differ)
    return std::unexpected(reject(Failure::malformed_header, std::string(name) + " appears " +
                                                                 std::to_string(count) +
                                                                 " times with different values; a sender sends it once"));
  return found;
}

std::expected<std::string_view, Verdict> required_header(const HeaderList& headers, std::string_view name)
{
  auto value = optional_header(headers, name);
  if (!value) return std::unexpected(value.error());
  if (!*value) return std::unexpected(reject(Failure::missing_header, "the " + std::string(name) + " header is missing"));
  if ((*value)->empty())
    return std::unexpected(reject(Failure::malformed_header, "the " + std::string(name) + " header is empty"));
  return **value;
}

std::expected<std::int64_t, Verdict> parse_timestamp(std::string_view header, std::string_view text)
{
  bool digits = !text.empty();
  for (char c : text)
    if (c < '0' || c > '9') digits = false;
  if (!digits)
    return std::unexpected(reject(Failure::malformed_header, std::string(header) + " is not a Unix time in seconds: " +
                                                                 quote_short(text)));
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    return std::unexpected(reject(Failure::malformed_header,
                                  std::string(header) + " is out of range for a Unix time: " + quote_short(text)));
  return value;
}

} // namespace centrali::sig::detail
