#pragma once
// HTTP/1.x request framing for the listener: the request head (request
// line and header block) and a chunked-body decoder. Pure functions over
// bytes, so every malformed-input rule is unit-testable without sockets.
// The rules favour refusing ambiguity: a request whose body length could be
// read two ways (Content-Length and Transfer-Encoding, or two different
// Content-Lengths) is refused, since that is how requests get smuggled.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "centrali/util/headers.hpp"

namespace centrali::http {

struct RequestHead {
  std::string method;
  std::string target;        // path and query (from an absolute-form target, the part after the authority)
  std::string path;          // percent-decoded, no query
  std::string host;          // the Host header, or an absolute-form target's authority; empty only for HTTP/1.0
  int minor_version = 1;     // HTTP/1.<minor>
  HeaderList headers;
  std::size_t head_bytes = 0;  // request line + headers + blank line, as received
  bool keep_alive = true;
  bool chunked = false;
  std::uint64_t content_length = 0;  // when not chunked
  bool expect_continue = false;
};

// Why a head was refused: the status to answer and a code for the body.
struct HeadError {
  int status = 400;
  std::string code = "bad_request";
  std::string reason;
};

struct HeadLimits {
  std::size_t max_head_bytes = 256 * 1024;
  std::size_t max_fields = 1000;
};

enum class HeadStatus { incomplete, complete, error };

struct HeadResult {
  HeadStatus status = HeadStatus::incomplete;
  RequestHead head;     // when complete
  HeadError error;      // when error
};

// Parses one request head as its bytes arrive, looking at each byte once:
// a head trickled in many small reads costs what one read of it costs.
// Incomplete until the blank line arrives (LF or CRLF line ends); an error
// as soon as the head is malformed or longer than the limit, so a client
// cannot grow the buffer without end.
class RequestHeadParser {
public:
  explicit RequestHeadParser(const HeadLimits& limits = {}) : m_limits(limits) {}

  // `bytes` starts at the head's first byte and holds at least the bytes of
  // the previous call, unchanged (the buffer may have moved): only what is
  // new is examined. After `complete` or `error`, reset() before the next head.
  HeadStatus feed(std::string_view bytes);
  // The parsed head once complete; the caller may move from it.
  RequestHead& head() { return m_head; }
  const HeadError& error() const { return m_error; }
  // Ready for the next head, with the same limits.
  void reset();
  // True once a byte of the current head has been seen.
  bool in_progress() const { return m_phase != Phase::leading || m_pos > 0; }
  // Bytes examined over this parser's life, for tests that the work is
  // linear in the bytes received.
  std::uint64_t bytes_examined() const { return m_examined; }

private:
  enum class Phase { leading, request_line, fields, complete, error };

  HeadStatus refuse(int status, std::string code, std::string reason);
  HeadStatus too_large();
  HeadStatus take_request_line(std::string_view line);
  HeadStatus take_field_line(std::string_view line);
  HeadStatus finish();

  HeadLimits m_limits;
  Phase m_phase = Phase::leading;
  std::size_t m_pos = 0;           // where the current line starts (or, leading, the next byte)
  std::size_t m_scanned = 0;       // bytes of the current line already searched for its end
  std::uint64_t m_examined = 0;
  RequestHead m_head;
  HeadError m_error;
  bool m_absolute_form = false;
  std::string m_absolute_authority;
  bool m_saw_length = false;
  bool m_saw_transfer_encoding = false;
  int m_host_fields = 0;
  std::string m_connection;
};

// Parses a head at the start of `bytes` in one go (RequestHeadParser fed
// once), e.g. for tests and tools.
HeadResult parse_request_head(std::string_view bytes, const HeadLimits& limits = {});

// Decodes a chunked body incrementally; chunk extensions and trailers are
// read and dropped.
class ChunkedDecoder {
public:
  enum class State { more, done, error };

  // Consumes bytes from `in` (advancing it), appending body bytes to `out`.
  // Stops at the end of the body (`done`, with any following bytes left in
  // `in`), at malformed framing (`error`), when `in` is used up (`more`), or
  // once `out` holds more than `max_out` bytes (`more`, the rest of `in`
  // left unread: the caller refuses the body rather than buffer a flood).
  State feed(std::string_view& in, std::string& out, std::size_t max_out = SIZE_MAX);
  // Body bytes decoded so far, including any not appended because `out`
  // was discarded by the caller.
  std::uint64_t decoded() const { return m_decoded; }

private:
  enum class Phase { size, extension, size_lf, data, data_cr, data_lf, trailer_start, trailer, trailer_lf };
  Phase m_phase = Phase::size;
  std::uint64_t m_remaining = 0;
  std::uint64_t m_decoded = 0;
  int m_size_digits = 0;
  std::size_t m_trailer_bytes = 0;  // of the current extension or of all trailers
};

} // namespace centrali::http
