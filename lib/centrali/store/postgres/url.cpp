#include "centrali/store/postgres/url.hpp"

#include <optional>
#include <vector>

namespace centrali::store::postgres {
namespace {

constexpr std::string_view k_hidden = "***";

struct Span {
  std::size_t pos;
  std::size_t size;
};

// The password of `user:password@`. libpq reads the user info up to the
// first '/'; the last '@' before it ends the user info, so a password with a
// stray '@' is hidden whole rather than in part.
std::optional<Span> userinfo_password(std::string_view url)
{
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::nullopt;
  const auto start = scheme + 3;
  const auto authority = url.substr(start, url.find('/', start) - start);
  const auto at = authority.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  const auto colon = authority.substr(0, at).find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return Span{start + colon + 1, at - colon - 1};
}

// Every `…password=value` (password, sslpassword), in a URL's query or a
// key=value conninfo: the value runs to '&', '#' or a space, or is quoted.
std::vector<Span> password_values(std::string_view text)
{
  constexpr std::string_view key = "password=";
  std::vector<Span> spans;
  for (auto p = text.find(key); p != std::string_view::npos; p = text.find(key, p + 1)) {
    const auto start = p + key.size();
    auto end = std::min(text.size(), text.find_first_of("&# \t\r\n", start));
    if (start < text.size() && text[start] == '\'') {
      const auto quote = text.find('\'', start + 1);
      end = quote == std::string_view::npos ? text.size() : quote + 1;
    }
    spans.push_back({start, end - start});
  }
  return spans;
}

// Decodes %XX; a malformed escape stays as written.
std::string percent_decoded(std::string_view s)
{
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

void replace_all(std::string& text, std::string_view secret)
{
  if (secret.empty()) return;
  for (auto p = text.find(secret); p != std::string::npos; p = text.find(secret, p + k_hidden.size()))
    text.replace(p, secret.size(), k_hidden);
}

// Spans must not overlap; replaced from the back so earlier ones stay put.
void replace_spans(std::string& text, std::vector<Span> spans)
{
  for (auto it = spans.rbegin(); it != spans.rend(); ++it) text.replace(it->pos, it->size, k_hidden);
}

} // namespace

bool is_postgres_url(std::string_view location)
{
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

std::string redact_postgres_url(std::string_view url)
{
  std::string out(url);
  replace_spans(out, password_values(out));
  if (auto span = userinfo_password(out)) out.replace(span->pos, span->size, k_hidden);
  return out;
}

std::string hide_password(std::string_view text, std::string_view url)
{
  std::vector<std::string> secrets;
  if (auto span = userinfo_password(url)) secrets.emplace_back(url.substr(span->pos, span->size));
  for (auto span : password_values(url)) {
    auto value = url.substr(span.pos, span.size);
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') value = value.substr(1, value.size() - 2);
    secrets.emplace_back(value);
  }
  const auto written = secrets.size();
  for (std::size_t i = 0; i < written; ++i) secrets.push_back(percent_decoded(secrets[i]));
  std::string out(text);
  replace_spans(out, password_values(out));
  for (const auto& secret : secrets) replace_all(out, secret);
  return out;
}

} // namespace centrali::store::postgres
