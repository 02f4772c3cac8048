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

// Parses a head at the start of `bytes`. Incomplete until the blank line
// arrives (LF or CRLF line ends); an error once the head is malformed or
// longer than the limit, so a client cannot grow the buffer without end.
HeadResult parse_request_head(std::string_view bytes, const HeadLimits& limits = {});

// Decodes a chunked body incrementally; chunk extensions and trailers are
// read and dropped.
class ChunkedDecoder {
public:
  enum class State { more, done, error };

  // Consumes bytes from `in` (advancing it), appending body bytes to `out`.
  // Stops at the end of the body (`done`, with any following bytes left in
  // `in`), at malformed framing (`error`), or when `in` is used up (`more`).
  State feed(std::string_view& in, std::string& out);
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
