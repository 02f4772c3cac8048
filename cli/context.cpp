#include "context.hpp"

#include <CLI/CLI.hpp>

#include "centrali/ingest/event_type.hpp"
#include "centrali/query/where.hpp"
#include "centrali/util/time.hpp"

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace centrali::cli {

Context::Context(GlobalOptions options, Output output) : m_options(std::move(options)), m_output(std::move(output))
{
}

Result<store::Store*> Context::store()
{
  if (!m_store) {
    auto opened = store::Store::open(m_options.store_path);
    if (!opened) return std::unexpected(opened.error());
    m_store.emplace(std::move(*opened));
    m_output.verbose(1, "store " + store::display_location(m_options.store_path));
  }
  return &*m_store;
}

Result<void> check_event_type(const std::string& type, const std::string& what)
{
  if (auto problem = ingest::event_type_problem(type); !problem.empty())
    return fail(ErrorKind::usage, what + " " + problem);
  return {};
}

Result<std::optional<std::int64_t>> time_option(const std::string& flag, const std::string& value)
{
  if (value.empty()) return std::optional<std::int64_t>{};
  // A bare number is Unix seconds. One below 1e9 (before 2001-09-09) is
  // almost surely a duration missing its unit (`--since 600` meaning ten
  // minutes): matching everything, or nothing, silently would be worse.
  // 0, the epoch, is a plain way to say "from the start".
  if (value.find_first_not_of("0123456789") == std::string::npos) {
    auto digits = value.substr(std::min(value.find_first_not_of('0'), value.size()));
    if (!digits.empty() && digits.size() < 10)
      return fail(ErrorKind::usage, flag + ": '" + value + "' is read as Unix seconds, which is before 2001-09-09; " +
                                        "for a duration back from now give a unit, e.g. " + digits + "s or " + digits + "m");
  }
  auto t = timeutil::parse_since(value, timeutil::now_ms());
  if (!t) return fail(ErrorKind::usage, flag + ": " + t.error().message);
  return std::optional<std::int64_t>{*t};
}

Result<std::int64_t> seconds_option(const std::string& flag, const std::string& value)
{
  auto d = timeutil::parse_duration(value);
  if (!d) return fail(ErrorKind::usage, flag + ": " + d.error().message);
  if (d->count() % 1000 != 0) return fail(ErrorKind::usage, flag + " is kept in whole seconds: '" + value + "' is not");
  return d->count() / 1000;
}

Result<BodyMatch> where_option(const std::vector<std::string>& where)
{
  if (where.empty()) return BodyMatch();
  auto parsed = query::Where::parse(where, "--where");
  if (!parsed) return std::unexpected(parsed.error());
  return BodyMatch([w = std::make_shared<query::Where>(std::move(*parsed))](std::string_view body) {
    return w->matches(body);
  });
}

void add_where_option(CLI::App* cmd, std::vector<std::string>& where, const std::string& of_what)
{
  cmd->add_option("--where", where,
                  "Only where " + of_what +
                      " meets this condition, e.g. data.object.customer=cus_1, 'data.amount>=100', "
                      "'data.refund exists' (repeatable: all must hold)")
      ->type_name("'PATH OP VALUE'")
      ->allow_extra_args(false);
}

Result<std::string> read_file(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorKind::usage, "cannot read " + path + ": no such file or not readable");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return fail(ErrorKind::usage, "cannot read " + path);
  return ss.str();
}

Result<std::string> read_stdin(const std::string& what)
{
  if (::isatty(STDIN_FILENO))
    return fail(ErrorKind::usage, "no " + what + " given: pass --data, --data-file, or pipe it on stdin");
  std::string data{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  return data;
}

} // namespace centrali::cli
