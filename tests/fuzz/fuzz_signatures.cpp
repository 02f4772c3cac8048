// libFuzzer target: arbitrary bytes through every scheme's header parser and
// verify(), diagnosis on; a signed request must verify, and must not once
// its body is changed. Not part of the CMake build (see README.md here).
//
// Input layout: byte 0 picks the scheme, byte 1 the options; the rest is
// split on '\n' into: secret, url, body (with "\\n" for newlines), then
// `Name: value` header lines.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "centrali/signatures/signatures.hpp"

using namespace centrali::sig;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  if (size < 2) return 0;
  static const Scheme k_schemes[] = {Scheme::standard, Scheme::v1a,    Scheme::svix,  Scheme::clerk, Scheme::stripe,
                                     Scheme::github,   Scheme::shopify, Scheme::slack, Scheme::twilio};
  auto scheme = k_schemes[data[0] % 9];
  auto options = data[1];
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);

  std::vector<std::string_view> lines;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  }
  auto line = [&](std::size_t i) { return i < lines.size() ? lines[i] : std::string_view{}; };

  std::string body;
  for (std::size_t i = 0; i < line(2).size(); ++i) {
    if (line(2).substr(i, 2) == "\\n") {
      body += '\n';
      ++i;
    } else {
      body += line(2)[i];
    }
  }
  HeaderList headers;
  for (std::size_t i = 3; i < lines.size(); ++i)
    if (auto h = parse_header_line(lines[i])) headers.push_back(std::move(*h));

  VerifyInput in;
  in.scheme = scheme;
  in.secrets = {std::string(line(0))};
  if (options & 1) in.secrets.push_back("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  in.headers = &headers;
  in.body = body;
  in.url = std::string(line(1));
  in.now_s = 1700000000 + (options >> 4) * 100;
  in.diagnose = (options & 2) ? Diagnose::yes : Diagnose::no;
  auto verdict = verify(in);
  // A verdict is coherent: valid exactly when there is no failure.
  if (verdict.valid != (verdict.failure == Failure::none)) __builtin_trap();
  if (!verdict.valid && verdict.reason.empty()) __builtin_trap();

  // Signing the same input must not crash either, and must verify.
  SignInput s;
  s.scheme = scheme;
  s.secrets = in.secrets;
  s.id = "msg_fuzz";
  s.timestamp = 1700000000;
  s.url = in.url;
  s.body = body;
  if (auto signed_headers = sign(s)) {
    VerifyInput again = in;
    again.headers = &*signed_headers;
    again.now_s = 1700000000;
    if (scheme == Scheme::v1a) return 0;  // signing needs whsk_, verifying whpk_; covered by unit tests
    if (!verify(again).valid) __builtin_trap();
    // A known answer, not the verdict checked against itself: the same
    // request with one body bit flipped must not verify. (Twilio signs the
    // URL and form parameters, which a flipped bit may leave unchanged.)
    if (!body.empty() && scheme != Scheme::twilio) {
      std::string tampered = body;
      tampered[options % tampered.size()] ^= 1;
      again.body = tampered;
      if (verify(again).valid) __builtin_trap();
    }
  }
  return 0;
}
