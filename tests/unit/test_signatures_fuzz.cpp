// Deterministic random-input testing: tens of thousands of random and
// mutated headers, bodies, secrets and clocks through every scheme's parser
// and verify(). Seeded, so a failure reproduces; it asserts that nothing
// crashes and every call returns a coherent verdict. (tests/fuzz/ has the
// same harness for libFuzzer, where a compiler supports it.)
#include <catch2/catch.hpp>

#include <limits>
#include <map>
#include <random>

#include "centrali/signatures/signatures.hpp"
#include "centrali/util/encoding.hpp"

using namespace centrali;
using namespace centrali::sig;

namespace {

const std::vector<Scheme> k_schemes = {Scheme::standard, Scheme::v1a,    Scheme::svix,  Scheme::clerk, Scheme::stripe,
                                       Scheme::github,   Scheme::shopify, Scheme::slack, Scheme::twilio};

const std::vector<std::string> k_header_names = {
    "webhook-id",          "webhook-timestamp",  "webhook-signature",     "svix-id",           "svix-timestamp",
    "svix-signature",      "Stripe-Signature",   "X-Hub-Signature-256",   "X-Hub-Signature",   "X-Shopify-Hmac-Sha256",
    "X-Slack-Signature",   "X-Slack-Request-Timestamp", "X-Twilio-Signature", "Content-Type", "X-Other"};

// Fragments that steer random values into the parsers' interesting paths.
const std::vector<std::string> k_fragments = {
    "v1,", "v1a,", "v0=", "t=", "v1=", "sha256=", "sha1=", ",", " ", "=", "==", "whsec_", "whsk_", "whpk_", "%",
    "%2B", "&", "?bodySHA256=", "://", ":443", "{", "}", "[", "]", "\"", "\\", "\n", "\r\n", "\t", "\x00", "\xff",
    "1700000000", "99999999999999999999", "-1", "0", "AAAA", "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "application/x-www-form-urlencoded"};

class Gen {
public:
  explicit Gen(std::uint64_t seed) : m_rng(seed) {}

  std::size_t below(std::size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(m_rng); }
  bool chance(int percent) { return below(100) < static_cast<std::size_t>(percent); }

  std::string bytes(std::size_t max)
  {
    std::string out(below(max + 1), '\0');
    for (auto& c : out) c = static_cast<char>(below(256));
    return out;
  }
  std::string text(std::size_t pieces)
  {
    std::string out;
    auto n = below(pieces + 1);
    for (std::size_t i = 0; i < n; ++i) {
      if (chance(60)) out += k_fragments[below(k_fragments.size())];
      else out += bytes(6);
    }
    return out;
  }
  std::string mutate(std::string s)
  {
    auto rounds = 1 + below(4);
    for (std::size_t r = 0; r < rounds; ++r) {
      switch (below(7)) {
      case 0:
        if (!s.empty()) s[below(s.size())] ^= static_cast<char>(1 << below(8));
        break;
      case 1: s.resize(below(s.size() + 1)); break;
      case 2: s.insert(below(s.size() + 1), k_fragments[below(k_fragments.size())]); break;
      case 3:
        if (!s.empty()) s.erase(below(s.size()), 1 + below(4));
        break;
      case 4: s += s.substr(0, below(s.size() + 1)); break;
      case 5: s = s + " " + s; break;
      case 6:
        if (chance(10)) s.append(k_max_header_value + below(64) - 32, 'A');
        break;
      }
    }
    return s;
  }
  std::int64_t clock()
  {
    switch (below(6)) {
    case 0: return std::numeric_limits<std::int64_t>::max();
    case 1: return std::numeric_limits<std::int64_t>::min();
    case 2: return 0;
    default: return 1700000000 + static_cast<std::int64_t>(below(2000)) - 1000;
    }
  }

private:
  std::mt19937_64 m_rng;
};

std::vector<std::string> secrets_for(Gen& g, Scheme scheme, const std::string& good)
{
  std::vector<std::string> out;
  auto n = g.below(4);
  for (std::size_t i = 0; i < n; ++i) {
    switch (g.below(5)) {
    case 0: out.push_back(good); break;
    case 1: out.push_back(g.mutate(good)); break;
    case 2: out.push_back(g.text(4)); break;
    case 3: out.push_back(""); break;
    case 4: out.push_back(scheme == Scheme::v1a ? "whpk_" + g.text(3) : "whsec_" + g.text(3)); break;
    }
  }
  return out;
}

void require_coherent(const Verdict& v, std::size_t secrets)
{
  if (v.valid) {
    REQUIRE(v.failure == Failure::none);
    REQUIRE(v.matched_secret >= 0);
    REQUIRE(static_cast<std::size_t>(v.matched_secret) < secrets);
    REQUIRE(v.reason.empty());
  } else {
    REQUIRE(v.failure != Failure::none);
    REQUIRE(v.matched_secret == -1);
    REQUIRE_FALSE(v.reason.empty());
  }
}

} // namespace

TEST_CASE("sig::verify fuzz: random and mutated input through every scheme never crashes", "[signatures][fuzz]")
{
  // Most iterations are random and only need a coherent verdict. Three
  // kinds have a known answer, decided by the generator before verify()
  // runs, and are counted apart: untouched signed requests (controls) must
  // verify; the same requests with one body bit flipped, or checked with
  // another secret, must not.
  Gen g(0xC0FFEE'2026'11'27ULL);
  auto v1a_key = *generate_key(Scheme::v1a);
  auto other_v1a_key = *generate_key(Scheme::v1a);
  enum class Kind { control, tampered, other_secret, random };
  std::map<Kind, int> made, verified;
  constexpr int k_iterations = 30000;
  for (int i = 0; i < k_iterations; ++i) {
    auto scheme = k_schemes[g.below(k_schemes.size())];
    const bool hmac_secret = scheme == Scheme::standard || scheme == Scheme::svix || scheme == Scheme::clerk;
    std::string good = scheme == Scheme::v1a ? v1a_key.secret
                       : hmac_secret         ? "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
                                             : "s3cret";
    std::string body = g.chance(30) ? R"({"a":[1,2,{"b":"c"}],"n":1.10})" : g.bytes(64);
    if (g.chance(20)) body = g.mutate(body);
    std::string url = g.chance(80) ? "https://example.com/hook?x=1" : g.text(5);

    SignInput in;
    in.scheme = scheme;
    in.secrets = {good};
    in.id = "msg_" + std::to_string(i);
    in.timestamp = 1700000000;
    in.url = url;
    in.body = body;
    auto signed_headers = sign(in);

    // Twilio signs the URL and form parameters, not the bytes: a flipped
    // bit may leave what it signs unchanged, so it is no tampering case.
    auto roll = g.below(100);
    Kind kind = Kind::random;
    if (signed_headers && roll < 10) kind = Kind::control;
    else if (signed_headers && roll < 15 && !body.empty() && scheme != Scheme::twilio) kind = Kind::tampered;
    else if (signed_headers && roll < 20) kind = Kind::other_secret;
    ++made[kind];

    HeaderList headers;
    if (kind != Kind::random) {
      headers = *signed_headers;
    } else if (signed_headers && g.chance(70)) {
      headers = *signed_headers;
      for (auto& h : headers)
        if (g.chance(50)) h.value = g.mutate(h.value);
      if (g.chance(20)) headers.push_back(headers[g.below(headers.size())]);
      if (g.chance(10) && !headers.empty()) headers.back().value = g.mutate(headers.back().value);
      if (g.chance(10) && !headers.empty()) headers.erase(headers.begin() + static_cast<long>(g.below(headers.size())));
    } else {
      auto n = g.below(6);
      for (std::size_t k = 0; k < n; ++k)
        headers.push_back({k_header_names[g.below(k_header_names.size())], g.text(8)});
    }
    std::string sent_body = body;
    if (kind == Kind::tampered) sent_body[g.below(sent_body.size())] ^= static_cast<char>(1 << g.below(8));

    VerifyInput v;
    v.scheme = scheme;
    v.headers = &headers;
    v.body = sent_body;
    v.url = url;
    if (kind == Kind::random) {
      v.secrets = secrets_for(g, scheme, good);
      v.now_s = g.clock();
      v.tolerance_s = g.chance(90) ? 300 : static_cast<std::int64_t>(g.below(1000)) - 500;
    } else {
      v.secrets = {scheme == Scheme::v1a ? v1a_key.public_key : good};
      if (kind == Kind::other_secret)
        v.secrets = {scheme == Scheme::v1a ? other_v1a_key.public_key
                     : hmac_secret         ? "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
                                           : "other-s3cret"};
      v.now_s = 1700000000;
      v.tolerance_s = 300;
    }
    v.diagnose = g.chance(25) ? Diagnose::yes : Diagnose::no;
    auto verdict = verify(v);
    require_coherent(verdict, v.secrets.size());
    if (kind != Kind::random) {
      INFO(scheme_name(scheme) << " case " << static_cast<int>(kind) << ": " << verdict.reason);
      REQUIRE(verdict.valid == (kind == Kind::control));
    }
    verified[kind] += verdict.valid ? 1 : 0;
  }
  INFO("controls " << made[Kind::control] << ", tampered " << made[Kind::tampered] << ", other secret "
                   << made[Kind::other_secret] << ", random " << made[Kind::random]);
  // Each known case was made often enough to mean something (counted from
  // the generator's choices, not from verify()).
  CHECK(made[Kind::control] > 1000);
  CHECK(made[Kind::tampered] > 500);
  CHECK(made[Kind::other_secret] > 500);
  CHECK(made[Kind::control] + made[Kind::tampered] + made[Kind::other_secret] + made[Kind::random] == k_iterations);
  CHECK(verified[Kind::control] == made[Kind::control]);
  CHECK(verified[Kind::tampered] == 0);
  CHECK(verified[Kind::other_secret] == 0);
}

TEST_CASE("sig::parse_header_line fuzz: random lines give a header or a usage error", "[signatures][fuzz]")
{
  Gen g(42);
  for (int i = 0; i < 20000; ++i) {
    auto line = g.chance(50) ? g.text(6) : k_header_names[g.below(k_header_names.size())] + ":" + g.text(4);
    auto h = parse_header_line(line);
    if (h) {
      REQUIRE_FALSE(h->name.empty());
      REQUIRE(h->name.find(':') == std::string::npos);
    } else {
      REQUIRE(h.error().kind == ErrorKind::usage);
    }
  }
}

TEST_CASE("encoding fuzz: base64 and hex decoders accept exactly the canonical texts of random bytes",
          "[signatures][fuzz]")
{
  Gen g(7);
  for (int i = 0; i < 30000; ++i) {
    auto text = g.chance(50) ? encoding::base64_encode(g.bytes(12)) : g.text(3);
    if (g.chance(50)) text = g.mutate(text);
    if (auto bytes = encoding::base64_decode(text)) REQUIRE(encoding::base64_encode(*bytes) == text);
    if (auto bytes = encoding::base64_decode(text, encoding::Padding::optional)) {
      auto canonical = encoding::base64_encode(*bytes);
      REQUIRE(canonical.substr(0, text.size()) == text);
    }
    if (auto bytes = encoding::hex_decode(text)) REQUIRE(bytes->size() * 2 == text.size());
    auto decoded = encoding::url_decode(text);
    REQUIRE(decoded.size() <= text.size());
  }
}
