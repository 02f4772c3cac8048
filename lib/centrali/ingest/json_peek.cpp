#include "centrali/ingest/json_peek.hpp"

#include <nlohmann/json.hpp>

namespace centrali::ingest {
namespace {

using json = nlohmann::json;

class PeekHandler : public nlohmann::json_sax<json> {
public:
  explicit PeekHandler(JsonPeek& out) : m_out(out) {}

  bool null() override { return value(nullptr); }
  bool boolean(bool) override { return value(nullptr); }
  bool number_integer(number_integer_t) override { return value(nullptr); }
  bool number_unsigned(number_unsigned_t) override { return value(nullptr); }
  bool number_float(number_float_t, const string_t&) override { return value(nullptr); }
  bool string(string_t& val) override { return value(&val); }
  bool binary(binary_t&) override { return value(nullptr); }
  bool start_object(std::size_t) override
  {
    if (m_depth == 0) m_out.is_object = true;
    m_in_event_object = m_depth == 1 && m_key == "event";
    ++m_depth;
    return true;
  }
  bool key(string_t& val) override
  {
    if (m_depth == 1) m_key = val;
    else if (m_depth == 2 && m_in_event_object) m_event_key = val;
    return true;
  }
  bool end_object() override
  {
    --m_depth;
    if (m_depth == 1) m_in_event_object = false;
    return true;
  }
  bool start_array(std::size_t) override
  {
    ++m_depth;
    return true;
  }
  bool end_array() override
  {
    --m_depth;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

private:
  bool value(std::string* s)
  {
    if (!s) return true;
    if (m_depth == 1) {
      if (m_key == "type") m_out.type = *s;
      else if (m_key == "id") m_out.id = *s;
      else if (m_key == "action") m_out.action = *s;
      else if (m_key == "event_id") m_out.event_id = *s;
    } else if (m_depth == 2 && m_in_event_object && m_event_key == "type") {
      m_out.event_type = *s;
    }
    return true;
  }

  JsonPeek& m_out;
  int m_depth = 0;
  std::string m_key;
  std::string m_event_key;
  bool m_in_event_object = false;
};

} // namespace

JsonPeek peek_json(std::string_view body)
{
  JsonPeek out;
  PeekHandler handler(out);
  // The SAX parser validates the whole text (trailing garbage included).
  bool ok = json::sax_parse(body.begin(), body.end(), &handler, json::input_format_t::json, true);
  out.valid = ok;
  if (!ok) out = JsonPeek{};
  return out;
}

} // namespace centrali::ingest
