#include "output.hpp"

#include <poll.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "centrali/util/time.hpp"
#include "centrali/util/url.hpp"
#include "centrali/util/utf8.hpp"

namespace centrali::cli {

std::string dump_json(const nlohmann::json& value, int indent)
{
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string message_line(const std::string& text, bool json)
{
  if (!json) return text + "\n";
  return dump_json({{"time", timeutil::format_rfc3339(timeutil::now_ms())}, {"message", text}}) + "\n";
}

std::string for_terminal(std::string_view text, bool multiline)
{
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  auto escape = [&](unsigned char c) {
    out += "\\x";
    out += k_hex[c >> 4];
    out += k_hex[c & 15];
  };
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      ++i;
    } else if (c == '\n' || c == '\t') {
      if (multiline) out += static_cast<char>(c);
      else out += c == '\n' ? "\\n" : "\\t";
      ++i;
    } else if (c < 0x80) {
      escape(c);  // the other C0 controls and DEL
      ++i;
    } else {
      // A whole UTF-8 sequence is kept, except the C1 controls U+0080-U+009F
      // (some terminals act on them as on ESC sequences).
      const std::size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
      const bool whole = n > 1 && i + n <= text.size() && is_valid_utf8(text.substr(i, n));
      if (!whole || (c == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0)) {
        for (std::size_t k = 0; k < (whole ? n : 1); ++k) escape(static_cast<unsigned char>(text[i + k]));
        i += whole ? n : 1;
      } else {
        out.append(text.substr(i, n));
        i += n;
      }
    }
  }
  return out;
}

std::string count_of(std::size_t n, std::string_view one, std::string_view many)
{
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::size_t display_width(std::string_view text)
{
  std::size_t n = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

namespace {

// The write end of a pipe whose reader has gone (or a socket whose peer
// has) polls as an error.
bool stdout_reader_gone()
{
  pollfd fd{STDOUT_FILENO, POLLOUT, 0};
  return ::poll(&fd, 1, 0) == 1 && (fd.revents & (POLLERR | POLLHUP)) != 0;
}

// main() ignores SIGPIPE (a receiver hanging up must not kill a send), so
// writing to a pipe nobody reads any more fails instead of ending the
// program, and a stream such as `events tail | head -1` would go on for
// ever. It ends here as SIGPIPE used to end it. Checks the stream's state,
// which a failed flush anywhere (the caller's too) leaves set.
void end_if_stdout_gone()
{
  if (std::cout && !std::ferror(stdout)) return;
  if (!stdout_reader_gone()) return;
  std::signal(SIGPIPE, SIG_DFL);
  std::raise(SIGPIPE);
  std::_Exit(128 + SIGPIPE);  // only if the signal was blocked in this thread
}

} // namespace

Output::Output(bool json, bool color, int verbosity) : m_json(json), m_color(color), m_verbosity(verbosity) {}

void Output::json_document(const nlohmann::json& value)
{
  std::cout << dump_json(value, 2) << '\n' << std::flush;
}

void Output::json_line(const nlohmann::json& value)
{
  std::cout << dump_json(value) << '\n' << std::flush;
  end_if_stdout_gone();
}

void Output::line(std::string_view text)
{
  // Flushed, as json_line is: a failed write shows here, in the stream
  // that made it.
  std::cout << text << '\n' << std::flush;
  end_if_stdout_gone();
}

void Output::bytes(std::string_view data)
{
  std::cout.write(data.data(), static_cast<std::streamsize>(data.size()));
  std::cout.flush();
}

void Output::table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows)
{
  std::vector<std::size_t> width(header.size(), 0);
  for (std::size_t i = 0; i < header.size(); ++i) width[i] = display_width(header[i]);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], display_width(row[i]));
  auto emit = [&](const std::vector<std::string>& row, bool is_header) {
    std::string text;
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::string cell = row[i];
      if (i + 1 < row.size()) cell.append(width[i] - display_width(row[i]) + 2, ' ');
      text += cell;
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    std::cout << (is_header ? paint(text, Style::bold) : text) << '\n';
  };
  emit(header, true);
  for (const auto& row : rows) emit(row, false);
  std::cout << std::flush;
}

void Output::fields(const std::vector<std::pair<std::string, std::string>>& rows)
{
  std::size_t w = 0;
  for (const auto& [k, v] : rows) w = std::max(w, display_width(k));
  for (const auto& [k, v] : rows) {
    std::string key = k + ":";
    key.append(w - display_width(k) + 1, ' ');
    std::cout << paint(key, Style::dim) << v << '\n';
  }
  std::cout << std::flush;
}

void Output::verbose(int level, std::string_view text)
{
  if (m_verbosity < level) return;
  // Under --json every stderr line is JSON, so a CI step can parse them all.
  if (m_json) std::cerr << message_line(std::string(text), true) << std::flush;
  else std::cerr << "centrali: " << text << '\n';
}

void Output::note(std::string_view text)
{
  std::cerr << message_line(std::string(text), m_json) << std::flush;
}

void Output::note(std::string_view text, const nlohmann::json& fields)
{
  if (!m_json) {
    note(text);
    return;
  }
  nlohmann::json j = {{"time", timeutil::format_rfc3339(timeutil::now_ms())}, {"message", text}};
  for (const auto& [key, value] : fields.items()) j[key] = value;
  std::cerr << dump_json(j) << '\n' << std::flush;
}

void Output::progress(std::size_t done, std::size_t total, std::string_view label)
{
  static const bool tty = ::isatty(STDERR_FILENO) != 0;
  // A bar redrawn with \r is no JSON line: under --json there is none.
  if (!tty || total == 0 || m_json) return;
  constexpr std::size_t width = 30;
  std::size_t filled = done * width / total;
  std::string bar(filled, '#');
  bar.append(width - filled, '.');
  std::cerr << "\r" << label << " [" << bar << "] " << done << "/" << total << (done == total ? "\n" : "") << std::flush;
}

std::string Output::paint(std::string_view text, Style style) const
{
  if (!m_color || style == Style::plain) return std::string(text);
  const char* code = "";
  switch (style) {
  case Style::bold: code = "1"; break;
  case Style::dim: code = "2"; break;
  case Style::green: code = "32"; break;
  case Style::red: code = "31"; break;
  case Style::yellow: code = "33"; break;
  case Style::cyan: code = "36"; break;
  case Style::plain: break;
  }
  return std::string("\x1b[") + code + "m" + std::string(text) + "\x1b[0m";
}

std::string shown_url(std::string_view url)
{
  return for_terminal(redact_url(url));
}

} // namespace centrali::cli
