#include "centrali/util/json_text.hpp"

#include <nlohmann/json.hpp>

#include "centrali/util/utf8.hpp"

namespace centrali {

void append_json_string(std::string& out, std::string_view text)
{
  if (!is_valid_utf8(text)) {
    out += nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  out += '"';
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += "\\u00";
      out += k_hex[c >> 4];
      out += k_hex[c & 15];
    } else {
      out += ch;
    }
  }
  out += '"';
}

} // namespace centrali
