#include "centrali/schedule/cron.hpp"

#include <date/date.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <expected>

namespace centrali::schedule {
namespace {

constexpr std::int64_t k_day_s = 86400;
// Long enough for Feb 29 (2096 to 2104 has no leap day) and short enough that
// an impossible expression such as `0 0 30 2 *` answers at once.
constexpr std::int64_t k_search_days = 8 * 366 + 31;

constexpr std::array<std::string_view, 12> k_month_names = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                            "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> k_weekday_names = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

struct FieldSpec {
  std::string_view name;
  int min;
  int max;
  const std::string_view* names = nullptr;  // names[i] is value i + name_base
  int name_count = 0;
  int name_base = 0;
  std::string_view names_hint = {};
};

constexpr std::array<FieldSpec, 5> k_fields = {{
    {"minute", 0, 59},
    {"hour", 0, 23},
    {"day-of-month", 1, 31},
    {"month", 1, 12, k_month_names.data(), 12, 1, "JAN-DEC"},
    {"day-of-week", 0, 7, k_weekday_names.data(), 7, 0, "SUN-SAT"},
}};

struct Macro {
  std::string_view name;
  std::string_view expansion;
};
constexpr std::array<Macro, 7> k_macros = {{
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
}};

// Field problems are reported without the expression; parse() adds it.
using FieldResult = std::expected<std::uint64_t, std::string>;

bool iequals(std::string_view a, std::string_view b)
{
  auto up = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; };
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return up(x) == up(y); });
}

bool all_digits(std::string_view s)
{
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::expected<int, std::string> parse_value(std::string_view tok, const FieldSpec& spec)
{
  std::string field = std::string(spec.name) + " field ";
  if (tok.empty()) return std::unexpected(field + "has an empty value");
  if (all_digits(tok)) {
    int v = 0;
    auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
    if (ec != std::errc{} || p != tok.data() + tok.size() || v < spec.min || v > spec.max)
      return std::unexpected(field + quoted(tok) + " is out of range " + std::to_string(spec.min) + "-" +
                             std::to_string(spec.max));
    return v;
  }
  for (int i = 0; i < spec.name_count; ++i)
    if (iequals(tok, spec.names[i])) return i + spec.name_base;
  if (spec.name_count > 0)
    return std::unexpected(field + quoted(tok) + " is not a number or a name (" + std::string(spec.names_hint) + ")");
  return std::unexpected(field + quoted(tok) + " is not a number");
}

// One list item: `*`, `v`, `a-b`, each optionally followed by `/step`.
FieldResult parse_item(std::string_view item, const FieldSpec& spec)
{
  std::string field = std::string(spec.name) + " field ";
  auto slash = item.find('/');
  std::string_view base = item.substr(0, slash);
  int step = 1;
  if (slash != std::string_view::npos) {
    auto step_text = item.substr(slash + 1);
    if (step_text.empty()) return std::unexpected(field + quoted(item) + " has an empty step");
    if (!all_digits(step_text)) return std::unexpected(field + quoted(item) + " has a step that is not a number");
    auto [p, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
    if (ec != std::errc{} || p != step_text.data() + step_text.size() || step > spec.max + 1)
      return std::unexpected(field + quoted(item) + " has a step larger than the field's range");
    if (step == 0) return std::unexpected(field + quoted(item) + " has step 0 (a step must be at least 1)");
  }
  if (base.empty()) return std::unexpected(field + quoted(item) + " has an empty value");

  int lo = 0;
  int hi = 0;
  if (base == "*") {
    lo = spec.min;
    hi = spec.max;
  } else if (auto dash = base.find('-'); dash != std::string_view::npos) {
    if (dash == 0 || dash + 1 == base.size())
      return std::unexpected(field + "range " + quoted(base) + " needs a value on both sides of '-'");
    auto a = parse_value(base.substr(0, dash), spec);
    if (!a) return std::unexpected(a.error());
    auto b = parse_value(base.substr(dash + 1), spec);
    if (!b) return std::unexpected(b.error());
    lo = *a;
    hi = *b;
    // `FRI-SUN` reads naturally; SUN is 0 by name, so end it at 7 instead.
    if (spec.name == "day-of-week" && hi == 0 && lo > 0 && iequals(base.substr(dash + 1), "SUN")) hi = 7;
    if (lo > hi)
      return std::unexpected(field + "range " + quoted(base) + " is reversed (write it low-high)");
  } else {
    auto v = parse_value(base, spec);
    if (!v) return std::unexpected(v.error());
    lo = *v;
    // `a/n` is cron shorthand for `a-max/n`.
    hi = slash == std::string_view::npos ? *v : spec.max;
  }

  std::uint64_t bits = 0;
  for (int v = lo; v <= hi; v += step) bits |= std::uint64_t{1} << v;
  return bits;
}

FieldResult parse_field(std::string_view text, const FieldSpec& spec)
{
  std::uint64_t bits = 0;
  std::size_t start = 0;
  while (true) {
    auto comma = text.find(',', start);
    auto item = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty())
      return std::unexpected(std::string(spec.name) + " field " + quoted(text) + " has an empty list item");
    auto r = parse_item(item, spec);
    if (!r) return r;
    bits |= *r;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return bits;
}

std::vector<std::string_view> split_fields(std::string_view s)
{
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b)
{
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

std::int64_t days_of(date::year_month_day ymd) { return date::sys_days(ymd).time_since_epoch().count(); }

date::year_month_day civil(std::int64_t day)
{
  return date::year_month_day{date::sys_days(date::days(static_cast<int>(day)))};
}

} // namespace

Result<Cron> Cron::parse(std::string_view expr)
{
  auto trim_ws = [](std::string_view s) {
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
  };
  std::string_view text = trim_ws(expr);
  std::string prefix = "invalid cron '" + std::string(text) + "': ";

  std::string_view fields_text = text;
  if (!text.empty() && text.front() == '@') {
    auto macro = std::find_if(k_macros.begin(), k_macros.end(), [&](const Macro& m) { return iequals(m.name, text); });
    if (macro == k_macros.end())
      return fail(ErrorKind::usage, prefix + "unknown macro (expected @hourly, @daily, @midnight, @weekly, "
                                             "@monthly, @yearly or @annually)");
    fields_text = macro->expansion;
  }

  auto parts = split_fields(fields_text);
  if (parts.size() != k_fields.size()) {
    std::string msg = prefix + "expected 5 fields (minute hour day-of-month month day-of-week) or a @macro, got " +
                      std::to_string(parts.size());
    if (parts.size() > k_fields.size()) msg += " (seconds and year fields are not supported)";
    return fail(ErrorKind::usage, msg);
  }

  std::array<std::uint64_t, 5> bits{};
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto r = parse_field(parts[i], k_fields[i]);
    if (!r) return fail(ErrorKind::usage, prefix + r.error());
    bits[i] = *r;
  }

  CronFields f;
  f.minutes = std::bitset<60>(bits[0]);
  f.hours = std::bitset<24>(bits[1]);
  f.days_of_month = std::bitset<32>(bits[2]);
  f.months = std::bitset<13>(bits[3]);
  // Weekday 7 is Sunday again.
  std::uint64_t dow = bits[4];
  if (dow & (std::uint64_t{1} << 7)) dow = (dow | 1) & ~(std::uint64_t{1} << 7);
  f.days_of_week = std::bitset<7>(dow);
  // Vixie cron decides "restricted" by the first character, so `*/2` counts as `*`.
  f.hour_star = parts[1].front() == '*';
  f.dom_star = parts[2].front() == '*';
  f.dow_star = parts[4].front() == '*';
  return Cron(std::string(text), f);
}

bool Cron::day_matches(int month, int day_of_month, int day_of_week) const
{
  if (!m_fields.months[static_cast<std::size_t>(month)]) return false;
  bool dom = m_fields.days_of_month[static_cast<std::size_t>(day_of_month)];
  bool dow = m_fields.days_of_week[static_cast<std::size_t>(day_of_week)];
  if (m_fields.dom_star || m_fields.dow_star) return dom && dow;
  return dom || dow;
}

// The earliest fire strictly after `after_ms` among the wall times of local day
// `day` (days since 1970-01-01 on the wall clock). Sets `alone` when the day
// has one UTC offset throughout, so no later day can fire before it.
std::optional<std::int64_t> Cron::first_on_day(std::int64_t day, std::int64_t after_ms, const Zone& tz,
                                               bool& alone) const
{
  const std::int64_t day_start = day * k_day_s;
  const auto& f = m_fields;
  auto hour_on = [&](std::int64_t h) { return f.hours[static_cast<std::size_t>(h)]; };
  auto minute_on = [&](std::int64_t m) { return f.minutes[static_cast<std::size_t>(m)]; };

  // The real instants this day's wall times can land on, and the offsets that
  // decide where. A day that starts inside a gap also needs the offset from
  // before the gap: it bounds where the swallowed wall times land.
  auto first = tz.resolve(day_start);
  auto last = tz.resolve(day_start + k_day_s - 1);
  std::int64_t lo = first.kind == LocalMapping::Kind::skipped ? first.first - 1 : first.first;
  std::int64_t hi = last.kind == LocalMapping::Kind::repeated ? last.second : last.first;
  std::int64_t min_offset = INT64_MAX;
  std::int64_t max_offset = INT64_MIN;
  int spans = 0;
  for (auto span = tz.span_at(lo);; span = tz.span_at(span.end)) {
    min_offset = std::min(min_offset, span.offset);
    max_offset = std::max(max_offset, span.offset);
    // A handful of transitions a day at most; the cap only guards odd data.
    if (span.end > hi || ++spans > 8) break;
  }

  alone = first.kind == LocalMapping::Kind::unique && last.kind == LocalMapping::Kind::unique &&
          min_offset == max_offset;
  if (alone) {
    // One offset all day: wall order is real order, so the first candidate past
    // `after_ms` wins and whole hours can be skipped.
    for (std::int64_t h = 0; h < 24; ++h) {
      if (!hour_on(h)) continue;
      std::int64_t hour_start = day_start + h * 3600 - min_offset;
      if ((hour_start + 59 * 60) * 1000 <= after_ms) continue;
      for (std::int64_t m = 0; m < 60; ++m) {
        std::int64_t t_ms = (hour_start + m * 60) * 1000;
        if (minute_on(m) && t_ms > after_ms) return t_ms;
      }
    }
    return std::nullopt;
  }

  // A transition day: wall order is not real order inside an overlap, so map
  // candidates one by one. Wall time w always lands in [w - max_offset,
  // w - min_offset], which bounds the scan on both sides.
  std::optional<std::int64_t> best;
  auto consider = [&](std::int64_t unix_s) {
    std::int64_t t_ms = unix_s * 1000;
    if (t_ms > after_ms && (!best || t_ms < *best)) best = t_ms;
  };
  for (std::int64_t h = 0; h < 24; ++h) {
    if (!hour_on(h)) continue;
    for (std::int64_t m = 0; m < 60; ++m) {
      if (!minute_on(m)) continue;
      std::int64_t wall = day_start + h * 3600 + m * 60;
      if ((wall - min_offset) * 1000 <= after_ms) continue;
      if (best && (wall - max_offset) * 1000 >= *best) return best;
      auto map = tz.resolve(wall);
      switch (map.kind) {
      case LocalMapping::Kind::unique:
        consider(map.first);
        break;
      case LocalMapping::Kind::skipped:
        // Fixed-time jobs still run, once, when the gap ends; jobs that follow
        // real time simply have no such instant (see the header).
        if (!f.hour_star) consider(map.first);
        break;
      case LocalMapping::Kind::repeated:
        consider(map.first);
        if (f.hour_star) consider(map.second);
        break;
      }
    }
  }
  return best;
}

std::optional<std::int64_t> Cron::next_after(std::int64_t after_ms, const Zone& tz) const
{
  // Keep the day arithmetic inside what the calendar code handles (years 1–9000).
  static const std::int64_t min_ms = days_of(date::year{1} / 1 / 1) * k_day_s * 1000;
  static const std::int64_t max_ms = days_of(date::year{9000} / 1 / 1) * k_day_s * 1000;
  if (after_ms < min_ms || after_ms > max_ms) return std::nullopt;

  std::int64_t after_s = floor_div(after_ms, 1000);
  // Start a day early: around an overlap, wall times of the previous local day
  // can still lie ahead in real time.
  std::int64_t first_day = floor_div(after_s + tz.offset_at(after_s), k_day_s) - 1;
  std::int64_t last_day = first_day + k_search_days;

  auto matches = [&](std::int64_t day) {
    auto ymd = civil(day);
    auto wd = date::weekday(date::sys_days(date::days(static_cast<int>(day))));
    return day_matches(static_cast<int>(static_cast<unsigned>(ymd.month())),
                       static_cast<int>(static_cast<unsigned>(ymd.day())), static_cast<int>(wd.c_encoding()));
  };

  for (std::int64_t day = first_day; day <= last_day;) {
    auto ymd = civil(day);
    if (!m_fields.months[static_cast<unsigned>(ymd.month())]) {
      // Jump to the 1st of the next month rather than walking its days.
      auto next_month = date::year_month_day{ymd.year() / ymd.month() / 1} + date::months{1};
      day = days_of(next_month);
      continue;
    }
    if (!matches(day)) {
      ++day;
      continue;
    }
    bool alone = false;
    auto fire = first_on_day(day, after_ms, tz, alone);
    if (!fire) {
      ++day;
      continue;
    }
    // An overlap across midnight can put the next day's first wall times before
    // this day's last ones in real time.
    if (!alone && matches(day + 1)) {
      bool unused = false;
      auto next = first_on_day(day + 1, after_ms, tz, unused);
      if (next && *next < *fire) fire = next;
    }
    return fire;
  }
  return std::nullopt;
}

std::vector<std::int64_t> next_fires(const Cron& cron, const Zone& tz, std::int64_t after_ms, int count)
{
  std::vector<std::int64_t> out;
  for (int i = 0; i < count; ++i) {
    auto next = cron.next_after(after_ms, tz);
    if (!next) break;
    out.push_back(*next);
    after_ms = *next;
  }
  return out;
}

} // namespace centrali::schedule
