#pragma once
// An incremental HTTP/1.x response parser for the event-driven client: fed
// bytes as they arrive, it finds the status line, the headers and the end of
// the body (Content-Length, chunked, or the connection closing), keeping only
// the first `max_body` bytes of the body and counting the rest.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "centrali/util/headers.hpp"

namespace centrali::http {

class ResponseParser {
public:
  enum class State { more, done, error };

  explicit ResponseParser(std::size_t max_body = 64 * 1024) : m_max_body(max_body) {}

  // Starts over for the next response on the same connection.
  void reset();

  // Consumes bytes from `data`; returns how many were used (fewer than given
  // only once the response is complete: the rest belongs to no request).
  std::size_t feed(std::string_view data);
  // The peer closed the connection: completes a close-delimited body, else
  // the response stays incomplete.
  void finish_on_close();

  State state() const { return m_state; }
  const std::string& error() const { return m_error; }
  bool started() const { return m_seen_bytes; }      // any byte of a response arrived
  bool headers_done() const { return m_phase > Phase::headers; }

  int status() const { return m_status; }
  HeaderList& headers() { return m_headers; }
  std::string& body() { return m_body; }              // at most max_body bytes
  bool body_truncated() const { return m_body_total > m_body.size(); }
  std::uint64_t body_total() const { return m_body_total; }
  // The connection may carry another request after this response.
  bool keep_alive() const { return m_keep_alive; }

private:
  enum class Phase { status_line, headers, body_length, chunk_size, chunk_data, chunk_end, trailers, body_close, done };

  bool take_line(std::string_view& data, std::size_t& used, std::string& line);
  bool on_status_line(const std::string& line);
  bool on_header_line(const std::string& line);
  void on_headers_end();
  void take_body(std::string_view bytes);
  void fail(std::string why);

  std::size_t m_max_body;
  State m_state = State::more;
  Phase m_phase = Phase::status_line;
  std::string m_error;
  std::string m_line;           // a line split across reads
  std::size_t m_header_bytes = 0;
  bool m_seen_bytes = false;
  int m_status = 0;
  bool m_http10 = false;
  HeaderList m_headers;
  std::string m_body;
  std::uint64_t m_body_total = 0;
  std::uint64_t m_remaining = 0;  // of a Content-Length body or the current chunk
  bool m_chunked = false;
  bool m_has_length = false;
  bool m_keep_alive = true;
};

} // namespace centrali::http
