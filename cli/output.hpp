#pragma once
// The only code that writes to stdout. Commands hand it data; it prints a
// table or text for people and JSON for programs (--json), and paints only
// when stdout is a terminal and colour is not turned off.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace centrali::cli {

enum class Style { plain, bold, dim, green, red, yellow, cyan };

class Output {
public:
  Output(bool json, bool color, int verbosity);

  bool json() const { return m_json; }
  bool color() const { return m_color; }
  int verbosity() const { return m_verbosity; }

  // One JSON document, indented, on stdout.
  void json_document(const nlohmann::json& value);
  // One compact JSON line, flushed at once (for streams such as `tail`).
  // Both end the program, as SIGPIPE would, once stdout's reader has gone.
  void json_line(const nlohmann::json& value);
  // A line of text on stdout, flushed at once.
  void line(std::string_view text);
  // Exact bytes on stdout, nothing added.
  void bytes(std::string_view data);
  // Aligned columns with a header row; the last column is never padded.
  void table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);
  // `key: value` lines with the keys aligned.
  void fields(const std::vector<std::pair<std::string, std::string>>& rows);
  // A diagnostic on stderr, shown when --verbose was given `level` times.
  // Like every stderr line, a `{"time","message"}` JSON line under --json.
  void verbose(int level, std::string_view text);
  // A note for people on stderr (never mixed into stdout data); under
  // --json a `{"time","message"}` line (see message_line).
  void note(std::string_view text);
  // The same with machine-readable `fields` added to the JSON line (they
  // are not shown to people).
  void note(std::string_view text, const nlohmann::json& fields);

  // A progress bar on stderr, redrawn in place; only when stderr is a
  // terminal (never in CI logs or pipes) and never under --json.
  // `done == total` ends the line.
  void progress(std::size_t done, std::size_t total, std::string_view label);

  std::string paint(std::string_view text, Style style) const;

private:
  bool m_json;
  bool m_color;
  int m_verbosity;
};

// JSON text that never throws on invalid UTF-8 (bytes are replaced).
std::string dump_json(const nlohmann::json& value, int indent = -1);

// A free-text log line for a stream of lines: `{"time","message"}` NDJSON
// when `json`, else the text itself; newline included.
std::string message_line(const std::string& text, bool json);

// Text from outside (payloads, headers, response bodies, event types) made
// safe to print on a terminal: control characters (C0, DEL, C1) and bytes
// that are not UTF-8 become visible escapes (\x1b, \n, ...), so a webhook
// sender cannot move the cursor, rewrite lines or set the clipboard of the
// person reading the log. `multiline` keeps line breaks and tabs.
std::string for_terminal(std::string_view text, bool multiline = false);

// A URL (or a path and query) as people see it in tables, details and logs:
// credentials in it redacted (redact_url) and escaped for the terminal.
// --json output keeps URLs exact.
std::string shown_url(std::string_view url);

// "1 delivery", "3 deliveries": a count with its noun in the right number.
std::string count_of(std::size_t n, std::string_view one, std::string_view many);

// Display width of UTF-8 text (code points; good enough for tables).
std::size_t display_width(std::string_view text);

} // namespace centrali::cli
