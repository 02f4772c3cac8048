#pragma once
// Byte <-> text encodings used by webhook signatures: base64 (RFC 4648,
// standard alphabet), lowercase hex, and URL/form percent-decoding.
// Decoders never throw and never read past their input; they say "invalid"
// with an empty optional so callers can turn it into their own message.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace centrali::encoding {

// Whether a decoder insists on `=` padding.
enum class Padding { required, optional };

// Standard base64 with `=` padding.
std::string base64_encode(std::string_view bytes);

// Strict base64: standard alphabet, padding as `padding` says (when optional,
// a padded input must still be padded correctly), no whitespace, and unused
// trailing bits must be zero (one text per byte string). nullopt if invalid.
std::optional<std::string> base64_decode(std::string_view text, Padding padding = Padding::required);

// Same rules as base64_decode, into `out` (no allocation); the byte count, or
// nullopt when the text is invalid or decodes to more than out.size() bytes.
std::optional<std::size_t> base64_decode_into(std::string_view text, std::span<unsigned char> out,
                                              Padding padding = Padding::required);

// Lowercase hex, two characters per byte.
std::string hex_encode(std::string_view bytes);

// Hex in either case, even length; nullopt if invalid.
std::optional<std::string> hex_decode(std::string_view text);

// Same as hex_decode, into `out`; nullopt when invalid or too long for `out`.
std::optional<std::size_t> hex_decode_into(std::string_view text, std::span<unsigned char> out);

// Whether `+` means a space (HTML form bodies) or itself (URL paths).
enum class PlusIs { space, plus };

// Percent-decoding: `%XX` (either case) becomes the byte; a `%` not followed
// by two hex digits is kept as is, as browsers and Twilio's libraries do.
std::string url_decode(std::string_view text, PlusIs plus = PlusIs::space);

// Percent-encoding of everything but RFC 3986's unreserved characters
// (letters, digits, `-._~`), for form fields and query values.
std::string url_encode(std::string_view text);

} // namespace centrali::encoding
