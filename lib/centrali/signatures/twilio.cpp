// Twilio: `X-Twilio-Signature: <base64 HMAC-SHA1>` keyed with the auth token,
// over the full URL Twilio requested followed by the form parameters (keys
// sorted, each key's values sorted). JSON bodies are not signed directly:
// the URL carries `bodySHA256=<hex sha256(body)>`, the HMAC covers the URL
// alone, and the receiver checks the hash against the body.
#include <algorithm>
#include <utility>

#include "centrali/signatures/detail.hpp"
#include "centrali/util/encoding.hpp"

namespace centrali::sig {

std::string twilio_url_with_body_hash(std::string_view url, std::string_view body)
{
  auto hash = encoding::hex_encode(crypto::as_view(crypto::sha256(body)));
  auto fragment = url.find('#');
  std::string base(url.substr(0, fragment));
  std::string_view tail = fragment == std::string_view::npos ? std::string_view{} : url.substr(fragment);
  if (base.find('?') == std::string::npos) base += '?';
  else if (base.back() != '?' && base.back() != '&') base += '&';
  base += "bodySHA256=" + hash;
  base += tail;
  return base;
}

} // namespace centrali::sig

namespace centrali::sig::detail {
namespace {

constexpr std::string_view k_header = "X-Twilio-Signature";

// Where the authority (`user@host:port`) of `url` sits; npos when the URL
// has no `scheme://`.
std::pair<std::size_t, std::size_t> authority_span(std::string_view url)
{
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {std::string_view::npos, 0};
  auto start = scheme_end + 3;
  auto end = url.find_first_of("/?#", start);
  if (end == std::string_view::npos) end = url.size();
  return {start, end};
}

} // namespace

std::string_view twilio_body_hash_param(std::string_view url)
{
  auto q = url.find('?');
  if (q == std::string_view::npos) return {};
  auto query = url.substr(q + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    auto amp = query.find('&');
    auto item = query.substr(0, amp);
    if (item.starts_with("bodySHA256=")) return item.substr(11);
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return {};
}

std::string twilio_signed_string(std::string_view url, std::string_view form_body)
{
  std::vector<std::pair<std::string, std::string>> params;
  while (!form_body.empty()) {
    auto amp = form_body.find('&');
    auto item = form_body.substr(0, amp);
    form_body = amp == std::string_view::npos ? std::string_view{} : form_body.substr(amp + 1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    auto key = encoding::url_decode(item.substr(0, eq));
    auto value = eq == std::string_view::npos ? std::string{} : encoding::url_decode(item.substr(eq + 1));
    params.emplace_back(std::move(key), std::move(value));
  }
  // Twilio's libraries sort the keys and, for a repeated key, its distinct
  // values; sorting (key, value) pairs and dropping repeats is the same.
  std::sort(params.begin(), params.end());
  params.erase(std::unique(params.begin(), params.end()), params.end());
  std::string out(url);
  for (const auto& [k, v] : params) out.append(k).append(v);
  return out;
}

std::vector<std::string> twilio_url_variants(std::string_view url)
{
  std::vector<std::string> out{std::string(url)};
  auto [start, end] = authority_span(url);
  if (start == std::string_view::npos) return out;
  auto authority = url.substr(start, end - start);
  auto at = authority.rfind('@');
  auto host_from = at == std::string_view::npos ? 0 : at + 1;
  auto bracket = authority.rfind(']');
  auto colon = authority.rfind(':');
  bool has_port = colon != std::string_view::npos && colon >= host_from &&
                  (bracket == std::string_view::npos || colon > bracket);
  // Twilio's libraries accept the URL with and without the port, because
  // Twilio itself has signed both spellings.
  if (has_port) {
    out.push_back(std::string(url.substr(0, start + colon)) + std::string(url.substr(end)));
  } else {
    auto scheme = url.substr(0, url.find("://"));
    std::string_view port = iequals(scheme, "https") ? ":443" : iequals(scheme, "http") ? ":80" : "";
    if (!port.empty()) out.push_back(std::string(url.substr(0, end)) + std::string(port) + std::string(url.substr(end)));
  }
  return out;
}

ParseResult parse_twilio(const HeaderList& headers, std::string_view url)
{
  auto signature = required_header(headers, k_header);
  if (!signature) return std::unexpected(signature.error());
  if (url.empty())
    return std::unexpected(reject(Failure::missing_url, "twilio signatures cover the request URL, and no URL was given"));
  Parsed p;
  p.scheme = Scheme::twilio;
  p.mac = Mac::hmac_sha1;
  p.encoding = Encoding::base64;
  p.key_rule = KeyRule::raw;
  p.layout = Layout::twilio;
  p.signature_header = k_header;
  p.body_sha256 = twilio_body_hash_param(url);
  if (p.body_sha256.empty()) {
    // Only a form body contributes parameters; anything else (or no body)
    // leaves the URL alone.
    auto type = optional_header(headers, "Content-Type");
    if (!type) return std::unexpected(type.error());
    auto media = *type ? trim((**type).substr(0, (**type).find(';'))) : std::string_view{};
    p.twilio_form = !*type || iequals(media, "application/x-www-form-urlencoded");
  }
  p.hmac.add(*signature);
  return p;
}

Result<HeaderList> sign_twilio(const SignInput& input)
{
  auto key = single_raw_secret(input);
  if (!key) return std::unexpected(key.error());
  if (input.url.empty()) return fail(ErrorKind::usage, "twilio signatures cover the request URL: give the URL");
  std::string content;
  auto hash_param = twilio_body_hash_param(input.url);
  if (!hash_param.empty()) {
    auto expected = encoding::hex_encode(crypto::as_view(crypto::sha256(input.body)));
    if (!iequals(hash_param, expected))
      return fail(ErrorKind::usage, "the URL's bodySHA256 is not the SHA-256 of the body (it should be " + expected + ")");
    content = input.url;
  } else {
    content = twilio_signed_string(input.url, input.body);
  }
  auto mac = crypto::hmac_sha1(*key, {content});
  return HeaderList{{std::string(k_header), encoding::base64_encode(crypto::as_view(mac))}};
}

} // namespace centrali::sig::detail
