#include "centrali/http/request_parser.hpp"

#include <algorithm>
#include <charconv>

#include "centrali/http/host_policy.hpp"
#include "centrali/util/encoding.hpp"

namespace centrali::http {
namespace {

bool is_token_char(unsigned char c)
{
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_token(std::string_view s)
{
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_token_char(static_cast<unsigned char>(c)); });
}

// `http://authority/path?query` (absolute-form, RFC 9112 §3.2.2), which a
// server must accept though clients send it only to proxies: splits it into
// the authority and an origin-form target. False when `target` is not one.
bool split_absolute_form(std::string_view target, std::string& authority, std::string& origin_form)
{
  auto scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) return false;
  auto scheme = target.substr(0, scheme_end);
  if (!iequals(scheme, "http") && !iequals(scheme, "https")) return false;
  auto rest = target.substr(scheme_end + 3);
  auto end = rest.find_first_of("/?");
  authority.assign(rest.substr(0, end));
  origin_form = end == std::string_view::npos ? "/" : std::string(rest.substr(end));
  if (origin_form.front() == '?') origin_form.insert(0, "/");
  return true;
}

std::string_view strip_cr(std::string_view line)
{
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

} // namespace

HeadStatus RequestHeadParser::feed(std::string_view bytes)
{
  if (m_phase == Phase::complete) return HeadStatus::complete;
  if (m_phase == Phase::error) return HeadStatus::error;
  if (m_phase == Phase::leading) {
    // Tolerate blank lines before the request line (RFC 9112 §2.2).
    while (m_pos < bytes.size() && m_pos < 16 && (bytes[m_pos] == '\r' || bytes[m_pos] == '\n')) {
      ++m_pos;
      ++m_examined;
    }
    if (m_pos == bytes.size() && m_pos < 16) return HeadStatus::incomplete;
    m_phase = Phase::request_line;
    m_scanned = m_pos;
  }
  while (true) {
    // The search for a line's end goes on where the last call stopped: a
    // long line trickled a byte at a time is searched once, not once per byte.
    auto end = bytes.find('\n', m_scanned);
    if (end == std::string_view::npos) {
      m_examined += bytes.size() - m_scanned;
      m_scanned = bytes.size();
      if (bytes.size() > m_limits.max_head_bytes) return too_large();
      return HeadStatus::incomplete;
    }
    m_examined += end + 1 - m_scanned;
    std::string_view line = strip_cr(bytes.substr(m_pos, end - m_pos));
    HeadStatus status;
    if (m_phase == Phase::request_line) {
      status = take_request_line(line);
    } else {
      if (end + 1 > m_limits.max_head_bytes) return too_large();
      if (line.empty()) {
        m_head.head_bytes = end + 1;
        return finish();
      }
      status = take_field_line(line);
    }
    if (status == HeadStatus::error) return status;
    m_pos = m_scanned = end + 1;
  }
}

void RequestHeadParser::reset()
{
  auto examined = m_examined;
  *this = RequestHeadParser(m_limits);
  m_examined = examined;
}

HeadStatus RequestHeadParser::refuse(int status, std::string code, std::string reason)
{
  m_phase = Phase::error;
  m_error = {status, std::move(code), std::move(reason)};
  return HeadStatus::error;
}

HeadStatus RequestHeadParser::too_large()
{
  return refuse(431, "headers_too_large", "request head larger than " + std::to_string(m_limits.max_head_bytes / 1024) + " KiB");
}

HeadStatus RequestHeadParser::take_request_line(std::string_view request_line)
{
  auto sp1 = request_line.find(' ');
  auto sp2 = sp1 == std::string_view::npos ? sp1 : request_line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || request_line.find(' ', sp2 + 1) != std::string_view::npos)
    return refuse(400, "bad_request", "malformed request line");
  std::string_view method = request_line.substr(0, sp1);
  std::string_view target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = request_line.substr(sp2 + 1);
  if (!is_token(method)) return refuse(400, "bad_request", "malformed method");
  if (target.empty() ||
      std::any_of(target.begin(), target.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }))
    return refuse(400, "bad_request", "malformed request target");
  std::string absolute_target;
  if (target.front() != '/') {
    if (!split_absolute_form(target, m_absolute_authority, absolute_target) || host_name(m_absolute_authority).empty())
      return refuse(400, "bad_request", "malformed request target");
    m_absolute_form = true;
    target = absolute_target;
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9')
    return refuse(400, "bad_request", "malformed HTTP version");
  if (version[5] != '1') return refuse(505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are served");
  m_head.method.assign(method);
  m_head.target.assign(target);
  m_head.minor_version = version[7] - '0';
  m_head.path = encoding::url_decode(target.substr(0, target.find('?')), encoding::PlusIs::plus);
  m_phase = Phase::fields;
  return HeadStatus::incomplete;
}

HeadStatus RequestHeadParser::take_field_line(std::string_view line)
{
  RequestHead& head = m_head;
  if (line.front() == ' ' || line.front() == '\t')
    return refuse(400, "bad_request", "folded header lines are not accepted");
  auto colon = line.find(':');
  if (colon == std::string_view::npos || !is_token(line.substr(0, colon)))
    return refuse(400, "bad_request", "malformed header line");
  if (head.headers.size() >= m_limits.max_fields)
    return refuse(431, "headers_too_large", "more than " + std::to_string(m_limits.max_fields) + " header fields");
  std::string_view name = line.substr(0, colon);
  std::string_view value = trim_ows(line.substr(colon + 1));
  if (std::any_of(value.begin(), value.end(), [](char c) { return c == '\0' || c == '\r'; }))
    return refuse(400, "bad_request", "control characters in a header value");
  if (iequals(name, "Content-Length")) {
    std::uint64_t n = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (value.empty() || ec != std::errc() || ptr != value.data() + value.size())
      return refuse(400, "bad_request", "malformed Content-Length");
    if (m_saw_length && n != head.content_length) return refuse(400, "bad_request", "conflicting Content-Length headers");
    m_saw_length = true;
    head.content_length = n;
  } else if (iequals(name, "Transfer-Encoding")) {
    if (m_saw_transfer_encoding || !iequals(value, "chunked"))
      return refuse(501, "not_implemented", "only Transfer-Encoding: chunked is supported");
    m_saw_transfer_encoding = true;
    head.chunked = true;
  } else if (iequals(name, "Host")) {
    if (++m_host_fields > 1) return refuse(400, "bad_request", "more than one Host header");
    if (host_name(value).empty()) return refuse(400, "bad_request", "malformed Host header");
    head.host.assign(value);
  } else if (iequals(name, "Connection")) {
    m_connection.assign(value);
  } else if (iequals(name, "Expect")) {
    if (!iequals(value, "100-continue")) return refuse(417, "expectation_failed", "only Expect: 100-continue is supported");
    head.expect_continue = head.minor_version >= 1;
  }
  head.headers.push_back({std::string(name), std::string(value)});
  return HeadStatus::incomplete;
}

HeadStatus RequestHeadParser::finish()
{
  RequestHead& head = m_head;
  // RFC 9112 §3.2: an HTTP/1.1 request names its host; an absolute-form
  // target's authority replaces whatever Host says.
  if (m_absolute_form) head.host = std::move(m_absolute_authority);
  else if (m_host_fields == 0 && head.minor_version >= 1) return refuse(400, "bad_request", "missing Host header");
  if (m_saw_length && m_saw_transfer_encoding)
    return refuse(400, "bad_request", "both Content-Length and Transfer-Encoding");
  if (head.minor_version == 0 && head.chunked)
    return refuse(400, "bad_request", "chunked bodies need HTTP/1.1");
  head.keep_alive = head.minor_version >= 1 ? !lists_token(m_connection, "close") : lists_token(m_connection, "keep-alive");
  if (!head.chunked && head.content_length == 0) head.expect_continue = false;
  m_phase = Phase::complete;
  return HeadStatus::complete;
}

HeadResult parse_request_head(std::string_view bytes, const HeadLimits& limits)
{
  RequestHeadParser parser(limits);
  HeadResult result;
  result.status = parser.feed(bytes);
  if (result.status == HeadStatus::complete) result.head = std::move(parser.head());
  if (result.status == HeadStatus::error) result.error = parser.error();
  return result;
}

ChunkedDecoder::State ChunkedDecoder::feed(std::string_view& in, std::string& out, std::size_t max_out)
{
  constexpr std::size_t k_max_line = 4096;        // a chunk-size line with its extensions
  constexpr std::size_t k_max_trailers = 64 * 1024;
  while (!in.empty()) {
    char c = in.front();
    switch (m_phase) {
    case Phase::size: {
      int digit = (c >= '0' && c <= '9') ? c - '0' : ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') ? (c | 0x20) - 'a' + 10 : -1;
      if (digit >= 0) {
        if (++m_size_digits > 15) return State::error;  // more than 2^60 bytes: nonsense
        m_remaining = m_remaining * 16 + static_cast<std::uint64_t>(digit);
        in.remove_prefix(1);
        break;
      }
      if (m_size_digits == 0) return State::error;
      if (c == ';' || c == ' ' || c == '\t') {
        m_phase = Phase::extension;
        m_trailer_bytes = 0;
      } else if (c == '\r') {
        m_phase = Phase::size_lf;
      } else if (c == '\n') {
        m_phase = Phase::size_lf;
        continue;  // handled there without consuming twice
      } else {
        return State::error;
      }
      in.remove_prefix(1);
      break;
    }
    case Phase::extension:
      if (c == '\n') {
        m_phase = Phase::size_lf;
        continue;
      }
      if (++m_trailer_bytes > k_max_line) return State::error;
      in.remove_prefix(1);
      break;
    case Phase::size_lf:
      if (c != '\n') return State::error;
      in.remove_prefix(1);
      m_size_digits = 0;
      if (m_remaining == 0) {
        m_phase = Phase::trailer_start;
        m_trailer_bytes = 0;
      } else {
        m_phase = Phase::data;
      }
      break;
    case Phase::data: {
      if (out.size() > max_out) return State::more;
      auto room = max_out - out.size();
      if (room < SIZE_MAX) ++room;  // one byte past the limit tells the caller it was crossed
      auto n = static_cast<std::size_t>(std::min<std::uint64_t>(m_remaining, std::min(in.size(), room)));
      out.append(in.data(), n);
      in.remove_prefix(n);
      m_remaining -= n;
      m_decoded += n;
      if (m_remaining == 0) m_phase = Phase::data_cr;
      break;
    }
    case Phase::data_cr:
      if (c == '\r') {
        m_phase = Phase::data_lf;
        in.remove_prefix(1);
      } else if (c == '\n') {
        m_phase = Phase::data_lf;
      } else {
        return State::error;
      }
      break;
    case Phase::data_lf:
      if (c != '\n') return State::error;
      in.remove_prefix(1);
      m_phase = Phase::size;
      break;
    case Phase::trailer_start:
      if (c == '\r') {
        m_phase = Phase::trailer_lf;
        in.remove_prefix(1);
      } else if (c == '\n') {
        in.remove_prefix(1);
        return State::done;
      } else {
        m_phase = Phase::trailer;
      }
      break;
    case Phase::trailer_lf:
      if (c != '\n') return State::error;
      in.remove_prefix(1);
      return State::done;
    case Phase::trailer:
      if (++m_trailer_bytes > k_max_trailers) return State::error;
      in.remove_prefix(1);
      if (c == '\n') m_phase = Phase::trailer_start;
      break;
    }
  }
  return State::more;
}

} // namespace centrali::http
