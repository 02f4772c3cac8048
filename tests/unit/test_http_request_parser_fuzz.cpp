// The request parser and the chunked decoder against themselves: valid
// requests, and requests mutated at random, fed whole and fed in random
// pieces (as a socket delivers them). The pieces must never be accepted
// when the whole is refused, nor read differently: that difference is what
// request smuggling is made of. Seeded, so every run checks the same cases.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "centrali/http/request_parser.hpp"

using centrali::http::ChunkedDecoder;
using centrali::http::HeadLimits;
using centrali::http::HeadStatus;
using centrali::http::RequestHead;
using centrali::http::RequestHeadParser;

namespace {

struct Sample {
  std::string wire;  // head and body as sent
  std::string body;  // the body it carries (valid samples only)
};

class Generator {
public:
  explicit Generator(std::uint32_t seed) : m_rng(seed) {}

  std::size_t below(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(m_rng); }
  bool chance(int percent) { return below(100) < static_cast<std::size_t>(percent); }

  std::string token(std::size_t max_len)
  {
    static const std::string chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!#$%&'*+^`|~";
    std::string out(1 + below(max_len), 'x');
    for (auto& c : out) c = chars[below(chars.size())];
    return out;
  }

  std::string text(std::size_t max_len)
  {
    std::string out(below(max_len + 1), 'x');
    for (auto& c : out) c = static_cast<char>(0x20 + below(0x5f));  // visible ASCII and space
    return out;
  }

  // A request the parser must accept, with a Content-Length or chunked body.
  Sample valid()
  {
    const std::string eol = chance(85) ? "\r\n" : "\n";
    static const std::vector<std::string> methods = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"};
    static const std::vector<std::string> targets = {"/", "/ingest/gh", "/ingest/a%20b?x=1&y=%2F", "/endpoints/x/y?q",
                                                     "http://127.0.0.1:8787/ingest/gh", "/healthz"};
    Sample s;
    std::string& w = s.wire;
    if (chance(5)) w += eol;  // a stray blank line before the request line is tolerated
    const bool http10 = chance(10);
    w += methods[below(methods.size())] + " " + targets[below(targets.size())] + (http10 ? " HTTP/1.0" : " HTTP/1.1") + eol;
    std::vector<std::string> fields;
    fields.push_back("Host: " + std::string(chance(50) ? "localhost" : "127.0.0.1:8787"));
    for (std::size_t i = below(5); i > 0; --i) fields.push_back("X-" + token(12) + ":" + (chance(50) ? " " : "") + text(40));
    if (chance(30)) fields.push_back(chance(50) ? "Connection: close" : "Connection: keep-alive");
    s.body = text(chance(20) ? 300 : 40);
    const bool chunked = !http10 && chance(50);
    if (chunked) {
      fields.push_back("Transfer-Encoding: chunked");
    } else if (!s.body.empty() || chance(50)) {
      fields.push_back("Content-Length: " + std::to_string(s.body.size()));
    } else {
      s.body.clear();
    }
    if (!http10 && chance(10)) fields.push_back("Expect: 100-continue");
    // Any order: the framing headers need not come first.
    for (std::size_t i = fields.size(); i > 1; --i) std::swap(fields[i - 1], fields[below(i)]);
    for (const auto& f : fields) w += f + eol;
    w += eol;
    if (!chunked) {
      w += s.body;
    } else {
      std::size_t at = 0;
      while (at < s.body.size()) {
        auto n = std::min(s.body.size() - at, 1 + below(64));
        char size[32];
        std::snprintf(size, sizeof size, chance(50) ? "%zx" : "%zX", n);
        w += size;
        if (chance(15)) w += ";ext=" + token(5);
        w += eol + s.body.substr(at, n) + eol;
        at += n;
      }
      w += "0" + eol;
      if (chance(20)) w += "X-Trailer: " + token(8) + eol;
      w += eol;
    }
    return s;
  }

  // A few random edits with bytes that matter to framing.
  std::string mutate(std::string w)
  {
    static const std::string interesting = std::string(" \t\r\n:;0aF-/\x7f\x80") + std::string(1, '\0');
    for (std::size_t edits = 1 + below(3); edits > 0 && !w.empty(); --edits) {
      auto at = below(w.size());
      switch (below(6)) {
      case 0: w[at] = interesting[below(interesting.size())]; break;
      case 1: w.insert(at, 1, interesting[below(interesting.size())]); break;
      case 2: w.erase(at, 1 + below(3)); break;
      case 3: {  // a line repeated (a second Content-Length, Host, Transfer-Encoding...)
        auto start = w.rfind('\n', at);
        start = start == std::string::npos ? 0 : start + 1;
        auto end = w.find('\n', at);
        if (end != std::string::npos) w.insert(start, w.substr(start, end + 1 - start));
        break;
      }
      case 4: {  // one framing header swapped for another
        static const std::vector<std::string> framing = {"Content-Length: 5\r\n", "Content-Length: 0\r\n",
                                                         "Transfer-Encoding: chunked\r\n",
                                                         "Transfer-Encoding: gzip, chunked\r\n", "Content-Length: +3\r\n",
                                                         "Host: a b\r\n", "\r\n"};
        auto line = w.find('\n', at);
        if (line != std::string::npos) w.insert(line + 1, framing[below(framing.size())]);
        break;
      }
      default: w.resize(at); break;  // cut short
      }
    }
    return w;
  }

  // Cut points that split `size` bytes into random pieces, sometimes one byte each.
  std::vector<std::size_t> cuts(std::size_t size)
  {
    std::vector<std::size_t> out;
    if (chance(10)) {
      for (std::size_t i = 1; i < size; ++i) out.push_back(i);
    } else {
      for (std::size_t i = below(8); i > 0; --i) out.push_back(below(size + 1));
      std::sort(out.begin(), out.end());
    }
    out.push_back(size);
    return out;
  }

private:
  std::mt19937 m_rng;
};

bool same_head(const RequestHead& a, const RequestHead& b)
{
  if (a.headers.size() != b.headers.size()) return false;
  for (std::size_t i = 0; i < a.headers.size(); ++i)
    if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value) return false;
  return a.method == b.method && a.target == b.target && a.path == b.path && a.host == b.host &&
         a.minor_version == b.minor_version && a.head_bytes == b.head_bytes && a.keep_alive == b.keep_alive &&
         a.chunked == b.chunked && a.content_length == b.content_length && a.expect_continue == b.expect_continue;
}

struct Outcome {
  HeadStatus status = HeadStatus::incomplete;
  RequestHead head;
};

// The head parsed from `wire` fed as the growing prefixes ending at `cuts`,
// as the server feeds what it has read so far. Stops at the first verdict.
Outcome parse_in_pieces(const std::string& wire, const std::vector<std::size_t>& cuts, const HeadLimits& limits)
{
  RequestHeadParser parser(limits);
  Outcome out;
  for (auto cut : cuts) {
    // A fresh copy each time: the parser must not rely on the buffer staying put.
    std::string received = wire.substr(0, cut);
    out.status = parser.feed(received);
    if (out.status != HeadStatus::incomplete) break;
  }
  if (out.status == HeadStatus::complete) out.head = parser.head();
  return out;
}

struct Decoded {
  ChunkedDecoder::State state = ChunkedDecoder::State::more;
  std::string body;
  std::size_t end = 0;  // where the body ended in the input (when done)
};

Decoded decode_in_pieces(std::string_view body, const std::vector<std::size_t>& cuts)
{
  ChunkedDecoder decoder;
  Decoded out;
  std::size_t from = 0;
  for (auto cut : cuts) {
    if (cut < from) continue;
    std::string_view piece = body.substr(from, cut - from);
    const auto piece_size = piece.size();
    out.state = decoder.feed(piece, out.body);
    if (out.state != ChunkedDecoder::State::more) {
      out.end = from + piece_size - piece.size();
      break;
    }
    from = cut;
  }
  return out;
}

} // namespace

TEST_CASE("request parser: random pieces of valid and mutated requests never read differently than the whole",
          "[http][fuzz]")
{
  Generator gen(20261207);
  HeadLimits limits;
  limits.max_head_bytes = 512;  // small, so the size limit is crossed by some samples too
  limits.max_fields = 8;
  int accepted = 0, refused = 0, accepted_mutants = 0;
  for (int i = 0; i < 30000; ++i) {
    const bool mutated = i % 3 != 0;
    Sample sample = gen.valid();
    const std::string wire = mutated ? gen.mutate(sample.wire) : sample.wire;
    CAPTURE(i, wire);

    auto whole = centrali::http::parse_request_head(wire, limits);
    if (!mutated) REQUIRE(whole.status == HeadStatus::complete);  // the generator makes valid heads
    auto pieces = parse_in_pieces(wire, gen.cuts(wire.size()), limits);
    if (whole.status == HeadStatus::complete) {
      REQUIRE(pieces.status == HeadStatus::complete);
      REQUIRE(same_head(pieces.head, whole.head));
      ++accepted;
      if (mutated) ++accepted_mutants;
    } else {
      // Refused whole (or never complete): never accepted in pieces.
      REQUIRE(pieces.status == whole.status);
      if (whole.status == HeadStatus::error) ++refused;
      continue;
    }
    if (!whole.head.chunked) {
      if (!mutated) REQUIRE(whole.head.content_length == sample.body.size());
      continue;
    }
    std::string_view body = std::string_view(wire).substr(whole.head.head_bytes);
    auto one_shot = decode_in_pieces(body, {body.size()});
    if (!mutated) {
      REQUIRE(one_shot.state == ChunkedDecoder::State::done);
      REQUIRE(one_shot.body == sample.body);
      REQUIRE(one_shot.end == body.size());
    }
    auto split = decode_in_pieces(body, gen.cuts(body.size()));
    REQUIRE(split.state == one_shot.state);
    if (one_shot.state == ChunkedDecoder::State::done) {
      REQUIRE(split.body == one_shot.body);
      REQUIRE(split.end == one_shot.end);
    }
  }
  // The mix exercised both sides.
  CHECK(accepted > 10000);
  CHECK(refused > 5000);
  CHECK(accepted_mutants > 1000);
}

TEST_CASE("request parser: a head trickled a byte at a time is examined once, not once per byte", "[http]")
{
  std::string head = "POST /ingest/gh HTTP/1.1\r\nHost: localhost\r\n";
  for (int i = 0; i < 500; ++i) head += "X-Pad-" + std::to_string(i) + ": " + std::string(180, 'v') + "\r\n";
  head += "X-Long: " + std::string(20'000, 'w') + "\r\n";  // one long line, trickled too
  head += "Content-Length: 0\r\n\r\n";
  RequestHeadParser parser;
  HeadStatus status = HeadStatus::incomplete;
  for (std::size_t cut = 1; cut <= head.size() && status == HeadStatus::incomplete; ++cut)
    status = parser.feed(std::string_view(head).substr(0, cut));
  REQUIRE(status == HeadStatus::complete);
  CHECK(parser.head().head_bytes == head.size());
  CHECK(parser.head().headers.size() == 503);
  // Each byte once; re-parsing from the start would examine ~size^2/2.
  CHECK(parser.bytes_examined() <= head.size());
}
