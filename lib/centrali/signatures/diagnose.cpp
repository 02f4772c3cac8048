// Why a signature did not match. Each check re-runs the comparison with one
// usual mistake undone: another scheme's key rule, the other encoding, the
// body re-formatted or with a newline added or removed, the URL spelled
// differently. A hint is given only when that variant actually matches, so
// every hint is a finding, not a guess. The work is bounded: at most
// k_max_diagnosed_secrets secrets, body variants only for bodies up to
// k_max_diagnosed_body bytes and JSON within util's nesting bound.
#include <nlohmann/json.hpp>

#include "centrali/signatures/detail.hpp"
#include "centrali/util/json_bounded.hpp"

namespace centrali::sig::detail {
namespace {

constexpr std::size_t k_max_diagnosed_secrets = 4;
constexpr std::size_t k_max_diagnosed_body = 256 * 1024;
constexpr std::string_view k_whsec = "whsec_";

struct BodyVariant {
  std::string finding;  // completes "the signature matches the body …"
  std::string bytes;
};

// Python's json.dumps default: ", " and ": " separators and ASCII escapes,
// made from a compact ASCII dump by adding the spaces outside strings.
std::string python_style(std::string_view compact)
{
  std::string out;
  out.reserve(compact.size() + compact.size() / 4);
  bool in_string = false, escaped = false;
  for (char c : compact) {
    out += c;
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == ',' || c == ':') {
      out += ' ';
    }
  }
  return out;
}

std::vector<BodyVariant> body_variants(std::string_view body)
{
  std::vector<BodyVariant> out;
  auto add = [&](std::string finding, std::string bytes) {
    if (bytes == body) return;
    for (const auto& v : out)
      if (v.bytes == bytes) return;
    out.push_back({std::move(finding), std::move(bytes)});
  };
  // The byte-level explanations first: when a newline alone explains the
  // difference, that is the finding, not "re-serialised".
  if (!body.empty() && body.back() == '\n') {
    auto cut = body.size() - (body.size() >= 2 && body[body.size() - 2] == '\r' ? 2 : 1);
    add("without its trailing newline: a newline was added after signing (editors and echo end files with one)",
        std::string(body.substr(0, cut)));
  }
  add("with a trailing newline added: the sender signed a final newline that is not in the received body",
      std::string(body) + "\n");
  auto trimmed = trim(body);
  if (trimmed.size() != body.size())
    add("with surrounding whitespace trimmed: whitespace was added around the body after signing", std::string(trimmed));
  {
    auto doc = parse_ordered_json(body);
    if (!doc.is_discarded()) {
      constexpr auto replace = nlohmann::json::error_handler_t::replace;
      const std::string reformatted = ": the bytes were re-formatted between signing and checking (a JSON parser or "
                                      "pretty-printer in the path?); verify the raw body exactly as received";
      add("re-serialised as compact JSON" + reformatted, doc.dump(-1, ' ', false, replace));
      add("re-serialised as pretty JSON (2-space indent)" + reformatted, doc.dump(2, ' ', false, replace));
      add("re-serialised as pretty JSON (4-space indent)" + reformatted, doc.dump(4, ' ', false, replace));
      add("re-serialised the way Python's json.dumps writes it (', ' and ': ')" + reformatted,
          python_style(doc.dump(-1, ' ', true, replace)));
      auto sorted = parse_json(body);
      if (!sorted.is_discarded())
        add("re-serialised as compact JSON with sorted keys" + reformatted, sorted.dump(-1, ' ', false, replace));
    }
  }
  return out;
}

std::string_view rule_text(KeyRule rule)
{
  return rule == KeyRule::whsec_base64 ? "the base64-decoded part after whsec_" : "the whole secret string as given";
}

class Checker {
public:
  Checker(const Parsed& p, const VerifyInput& in, std::span<const Result<Key>> keys)
      : m_p(p), m_in(in), m_keys(keys.first(std::min(keys.size(), k_max_diagnosed_secrets))),
        m_hmac(decode_candidates(p.hmac, p.encoding, mac_size(p.mac))),
        m_ed(decode_candidates(p.ed25519, Encoding::base64, 64))
  {
  }

  const Decoded& hmac() const { return m_hmac; }
  const Decoded& ed() const { return m_ed; }

  bool any(const Content& content, const Decoded& hmac, const Decoded& ed) const
  {
    return first_match(m_p, m_keys, content, hmac, ed) >= 0;
  }
  bool body_matches(std::string_view body) const
  {
    return any(signed_content(m_p, body, m_in.url), m_hmac, m_ed) && body_hash_matches(m_p, body);
  }
  bool url_matches(std::string_view url) const
  {
    for (const auto& u : twilio_url_variants(url))
      if (any(signed_content(m_p, m_in.body, u), m_hmac, m_ed)) return true;
    return false;
  }

private:
  const Parsed& m_p;
  const VerifyInput& m_in;
  std::span<const Result<Key>> m_keys;
  Decoded m_hmac;
  Decoded m_ed;
};

void encoding_hints(const Parsed& p, const VerifyInput& in, const Checker& check, std::vector<std::string>& hints)
{
  auto content = signed_content(p, in.body, in.url);
  auto scheme = std::string(scheme_name(in.scheme));
  auto header = std::string(p.signature_header);
  auto other = p.encoding == Encoding::hex ? Encoding::base64 : Encoding::hex;
  auto alt = decode_candidates(p.hmac, other, mac_size(p.mac));
  if (alt.usable() > 0 && check.any(content, alt, {}))
    hints.push_back("the signature in " + header + " is the right HMAC, but written in " +
                    std::string(encoding_name(other)) + "; " + scheme + " signatures are " +
                    std::string(encoding_name(p.encoding)));
  if (p.encoding == Encoding::base64) {
    auto url_safe = decode_candidates(p.hmac, Encoding::base64, mac_size(p.mac), Alphabet::url_safe);
    if (url_safe.usable() > 0 && check.any(content, url_safe, {})) {
      bool has_url_chars = false;
      for (auto c : p.hmac.items()) has_url_chars = has_url_chars || c.find_first_of("-_") != std::string_view::npos;
      hints.push_back("the signature in " + header + " is the right HMAC, but written in " +
                      (has_url_chars ? "base64url (- and _ instead of + and /)" : "base64 without its = padding") +
                      "; " + scheme + " uses standard, padded base64");
    }
  }
}

void signature_type_hints(const Parsed& p, std::span<const Result<Key>> keys, std::vector<std::string>& hints)
{
  if (p.layout != Layout::id_ts_body) return;
  bool hmac_key = false, ed_key = false;
  for (const auto& k : keys)
    if (k) (k->kind == Key::Kind::ed25519 ? ed_key : hmac_key) = true;
  auto header = std::string(p.signature_header);
  if (hmac_key && !ed_key && p.hmac.size() == 0 && p.ed25519.size() > 0)
    hints.push_back(header + " carries only v1a (Ed25519) signatures, but the secret is a symmetric whsec_ key: "
                             "verify with the sender's whpk_ public key");
  if (ed_key && !hmac_key && p.ed25519.size() == 0 && p.hmac.size() > 0)
    hints.push_back(header + " carries only v1 (HMAC) signatures, but the secret is an Ed25519 key: "
                             "verify with the sender's whsec_ secret");
}

void twilio_hints(const Parsed& p, const VerifyInput& in, const Checker& check, std::vector<std::string>& hints)
{
  if (p.layout != Layout::twilio) return;
  std::string swapped;
  if (in.url.starts_with("http://")) swapped = "https://" + in.url.substr(7);
  else if (in.url.starts_with("https://")) swapped = "http://" + in.url.substr(8);
  if (!swapped.empty() && check.url_matches(swapped))
    hints.push_back("the signature matches the URL " + quote_short(swapped, 200) +
                    ": a proxy in front changed the scheme; verify against the URL Twilio requested");
  if (p.twilio_form && !in.body.empty()) {
    Content url_only;
    url_only.owned = in.url;
    url_only.uses_owned = true;
    if (check.any(url_only, check.hmac(), check.ed()))
      hints.push_back("the signature matches the URL alone, without the form parameters: the sender did not sign "
                      "the body as a form (was it sent with another Content-Type?)");
  }
}

} // namespace

std::vector<std::string> key_rule_hints(const Parsed& p, const VerifyInput& in)
{
  std::vector<std::string> hints;
  auto hmac = decode_candidates(p.hmac, p.encoding, mac_size(p.mac));
  if (hmac.usable() == 0) return hints;
  auto content = signed_content(p, in.body, in.url);
  auto scheme = std::string(scheme_name(in.scheme));
  for (std::size_t i = 0; i < in.secrets.size() && i < k_max_diagnosed_secrets; ++i) {
    std::string_view secret = in.secrets[i];
    if (secret.empty() || (p.layout == Layout::id_ts_body && is_ed25519_secret(secret))) continue;
    auto trimmed = trim(secret);
    if (!trimmed.empty() && trimmed.size() != secret.size()) {
      Key key;
      if (auto bytes = hmac_key(p.key_rule, trimmed)) key.hmac_key = std::move(*bytes);
      if (!key.hmac_key.empty() && key_matches(p, key, content, hmac, {})) {
        hints.push_back("secret #" + std::to_string(i + 1) +
                        " matches once the whitespace around it is removed (a newline read from a file or env var?)");
        continue;
      }
    }
    bool prefixed = secret.starts_with(k_whsec);
    std::vector<std::pair<std::string, std::string>> alternatives;
    if (p.key_rule == KeyRule::whsec_base64) {
      alternatives.emplace_back("the whole secret string, whsec_ included, as raw bytes (Stripe's rule)", secret);
      if (prefixed) alternatives.emplace_back("the text after whsec_ as raw bytes, not base64-decoded", secret.substr(k_whsec.size()));
    } else {
      if (auto decoded = hmac_key(KeyRule::whsec_base64, secret))
        alternatives.emplace_back(prefixed ? "the part after whsec_ base64-decoded (the Standard Webhooks and Svix rule)"
                                           : "the secret base64-decoded (the Standard Webhooks and Svix rule)",
                                  std::move(*decoded));
      if (prefixed) alternatives.emplace_back("the secret without its whsec_ prefix", secret.substr(k_whsec.size()));
    }
    for (const auto& [label, bytes] : alternatives) {
      Key key;
      key.hmac_key = bytes;
      if (!key_matches(p, key, content, hmac, {})) continue;
      hints.push_back("secret #" + std::to_string(i + 1) + " matches when the key is " + label + ", but " + scheme +
                      " uses " + std::string(rule_text(p.key_rule)) +
                      ": the sender derives its key another way (is it really a " + scheme + " sender?)");
      break;
    }
  }
  return hints;
}

std::vector<std::string> diagnose(const Parsed& p, const VerifyInput& in, std::span<const Result<Key>> keys)
{
  std::vector<std::string> hints;
  Checker check(p, in, keys);

  signature_type_hints(p, keys, hints);
  auto found = key_rule_hints(p, in);
  hints.insert(hints.end(), found.begin(), found.end());
  encoding_hints(p, in, check, hints);
  if (in.body.size() <= k_max_diagnosed_body)
    for (const auto& variant : body_variants(in.body))
      if (check.body_matches(variant.bytes)) hints.push_back("the signature matches the body " + variant.finding);
  twilio_hints(p, in, check, hints);

  if (hints.empty())
    hints.push_back("no common mistake explains it: most likely the secret is not the one that signed this request, "
                    "or the body or signed headers changed in transit");
  for (std::size_t i = 0; i < keys.size(); ++i)
    if (!keys[i]) hints.push_back("secret #" + std::to_string(i + 1) + " was not used: it " + keys[i].error().message);
  auto dropped = p.hmac.dropped() + p.ed25519.dropped();
  if (dropped > 0)
    hints.push_back("only the first " + std::to_string(k_max_candidates) + " signatures in " +
                    std::string(p.signature_header) + " were checked; " + std::to_string(dropped) + " more were ignored");
  return hints;
}

std::vector<std::string> header_hints(Scheme scheme, const HeaderList& headers)
{
  struct Sender {
    std::string_view header;
    Scheme scheme;
  };
  static constexpr Sender k_senders[] = {
      {"webhook-signature", Scheme::standard}, {"svix-signature", Scheme::svix},
      {"Stripe-Signature", Scheme::stripe},    {"X-Hub-Signature-256", Scheme::github},
      {"X-Hub-Signature", Scheme::github},     {"X-Shopify-Hmac-Sha256", Scheme::shopify},
      {"X-Slack-Signature", Scheme::slack},    {"X-Twilio-Signature", Scheme::twilio},
  };
  auto family = [](Scheme s) {
    return s == Scheme::v1a ? Scheme::standard : s == Scheme::clerk ? Scheme::svix : s;
  };
  std::vector<std::string> hints;
  for (const auto& sender : k_senders) {
    if (family(sender.scheme) == family(scheme) || !find_header(headers, sender.header)) continue;
    auto name = std::string(scheme_name(sender.scheme));
    auto hint = "the request carries " + std::string(sender.header) + ", which " + name + " sends: is it a " + name +
                " webhook rather than " + std::string(scheme_name(scheme)) + "?";
    if (hints.empty() || hints.back() != hint) hints.push_back(hint);
  }
  return hints;
}

} // namespace centrali::sig::detail
