#include "centrali/http/response_parser.hpp"

#include <algorithm>
#include <charconv>

namespace centrali::http {
namespace {

// A response whose status line and headers exceed this is not one we can
// log usefully; treating it as an error also bounds memory per connection.
constexpr std::size_t k_max_header_bytes = 64 * 1024;

} // namespace

void ResponseParser::reset()
{
  *this = ResponseParser(m_max_body);
}

void ResponseParser::fail(std::string why)
{
  m_state = State::error;
  m_error = std::move(why);
  m_keep_alive = false;
}

bool ResponseParser::take_line(std::string_view& data, std::size_t& used, std::string& line)
{
  // Chunk-size lines of a long chunked body are not headers: only the head
  // and the trailers count against the header limit, but no single line
  // may grow past it either.
  const bool counts = m_phase == Phase::status_line || m_phase == Phase::headers || m_phase == Phase::trailers;
  const std::size_t counted = counts ? m_header_bytes : 0;
  auto nl = data.find('\n');
  if (nl == std::string_view::npos) {
    m_line.append(data);
    used += data.size();
    data = {};
    if (counted + m_line.size() > k_max_header_bytes) fail("response headers too large");
    return false;
  }
  line = std::move(m_line);
  line.append(data.substr(0, nl));
  m_line.clear();
  used += nl + 1;
  data.remove_prefix(nl + 1);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (counts) m_header_bytes += line.size() + 2;
  if (counted + line.size() + 2 > k_max_header_bytes) {
    fail("response headers too large");
    return false;
  }
  return true;
}

bool ResponseParser::on_status_line(const std::string& line)
{
  // "HTTP/1.1 200 OK" (the reason phrase may be empty or absent).
  if (line.size() < 12 || line.compare(0, 7, "HTTP/1.") != 0 || line[8] != ' ') {
    fail("malformed response status line");
    return false;
  }
  m_http10 = line[7] == '0';
  m_keep_alive = !m_http10;
  int status = 0;
  auto [p, ec] = std::from_chars(line.data() + 9, line.data() + 12, status);
  if (ec != std::errc{} || p != line.data() + 12 || status < 100 || status > 999) {
    fail("malformed response status line");
    return false;
  }
  m_status = status;
  m_phase = Phase::headers;
  return true;
}

bool ResponseParser::on_header_line(const std::string& line)
{
  auto colon = line.find(':');
  if (colon == std::string::npos || colon == 0) {
    fail("malformed response header");
    return false;
  }
  std::string_view name = trim_ows(std::string_view(line).substr(0, colon));
  std::string_view value = trim_ows(std::string_view(line).substr(colon + 1));
  m_headers.push_back({std::string(name), std::string(value)});
  return true;
}

void ResponseParser::on_headers_end()
{
  if (m_status < 200) {
    // 1xx interim responses (100 Continue, 103 Early Hints) precede the real one.
    m_headers.clear();
    m_phase = Phase::status_line;
    return;
  }
  const std::string* content_length = nullptr;
  for (const auto& h : m_headers) {
    if (iequals(h.name, "Connection")) {
      if (lists_token(h.value, "close")) m_keep_alive = false;
      else if (m_http10 && lists_token(h.value, "keep-alive")) m_keep_alive = true;
    } else if (iequals(h.name, "Transfer-Encoding")) {
      m_chunked = lists_token(h.value, "chunked");
    } else if (iequals(h.name, "Content-Length")) {
      content_length = &h.value;
    }
  }
  if (m_status == 204 || m_status == 304) {
    m_phase = Phase::done;
    m_state = State::done;
    return;
  }
  if (m_chunked) {
    m_phase = Phase::chunk_size;
    return;
  }
  if (content_length) {
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(content_length->data(), content_length->data() + content_length->size(), n);
    if (ec != std::errc{} || p != content_length->data() + content_length->size()) {
      fail("malformed Content-Length in response");
      return;
    }
    m_has_length = true;
    m_remaining = n;
    m_phase = n == 0 ? Phase::done : Phase::body_length;
    if (n == 0) m_state = State::done;
    return;
  }
  // No length: the body ends when the server closes the connection.
  m_keep_alive = false;
  m_phase = Phase::body_close;
}

void ResponseParser::take_body(std::string_view bytes)
{
  m_body_total += bytes.size();
  if (m_body.size() < m_max_body) m_body.append(bytes.substr(0, std::min(bytes.size(), m_max_body - m_body.size())));
}

std::size_t ResponseParser::feed(std::string_view data)
{
  std::size_t used = 0;
  if (!data.empty()) m_seen_bytes = true;
  std::string line;
  while (m_state == State::more && !data.empty()) {
    switch (m_phase) {
    case Phase::status_line:
      if (!take_line(data, used, line)) break;
      if (line.empty()) break;  // tolerate a stray CRLF before the status line
      on_status_line(line);
      break;
    case Phase::headers:
      if (!take_line(data, used, line)) break;
      if (line.empty()) on_headers_end();
      else on_header_line(line);
      break;
    case Phase::body_length:
    case Phase::chunk_data: {
      auto n = static_cast<std::size_t>(std::min<std::uint64_t>(m_remaining, data.size()));
      take_body(data.substr(0, n));
      data.remove_prefix(n);
      used += n;
      m_remaining -= n;
      if (m_remaining == 0) {
        m_phase = m_phase == Phase::chunk_data ? Phase::chunk_end : Phase::done;
        if (m_phase == Phase::done) m_state = State::done;
      }
      break;
    }
    case Phase::chunk_size: {
      if (!take_line(data, used, line)) break;
      auto hex = trim_ows(std::string_view(line).substr(0, line.find(';')));
      std::uint64_t n = 0;
      auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), n, 16);
      if (hex.empty() || ec != std::errc{} || p != hex.data() + hex.size()) {
        fail("malformed chunk in response");
        break;
      }
      m_remaining = n;
      m_phase = n == 0 ? Phase::trailers : Phase::chunk_data;
      break;
    }
    case Phase::chunk_end:
      if (!take_line(data, used, line)) break;
      if (!line.empty()) fail("malformed chunk in response");
      else m_phase = Phase::chunk_size;
      break;
    case Phase::trailers:
      if (!take_line(data, used, line)) break;
      if (line.empty()) {
        m_phase = Phase::done;
        m_state = State::done;
      }
      break;
    case Phase::body_close:
      take_body(data);
      used += data.size();
      data = {};
      break;
    case Phase::done: m_state = State::done; break;
    }
  }
  return used;
}

void ResponseParser::finish_on_close()
{
  if (m_state != State::more) return;
  if (m_phase == Phase::body_close) {
    m_phase = Phase::done;
    m_state = State::done;
    return;
  }
  fail("connection closed before a complete response");
}

} // namespace centrali::http
