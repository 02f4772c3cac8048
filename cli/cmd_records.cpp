// `centrali records create|update|delete|get|list`: JSON documents in
// collections. Every change also emits record_created / record_updated /
// record_deleted into the event stream, where triggers and webhooks see it.
#include <CLI/CLI.hpp>

#include "centrali/records/records.hpp"
#include "centrali/store/records.hpp"
#include "centrali/util/time.hpp"
#include "context.hpp"
#include "list_limit.hpp"

namespace centrali::cli {
namespace {

using json = nlohmann::json;

struct WriteArgs {
  std::string target;  // collection (create) or record id (update)
  std::string data;
  bool data_given = false;
};

struct ListArgs {
  std::string collection;
  std::vector<std::string> where;
  int limit = 50;
  bool limit_given = false;
};

json record_json(const store::Record& r)
{
  return {{"id", r.id},
          {"collection", r.collection},
          {"version", r.version},
          {"data", r.data},
          {"created_at", timeutil::format_rfc3339(r.created_ms)},
          {"updated_at", timeutil::format_rfc3339(r.updated_ms)}};
}

Result<std::string> data_text(const WriteArgs& args)
{
  if (args.data_given && args.data != "-") return args.data;
  return read_stdin("--data JSON");
}

Result<void> run_create(Context& ctx, const WriteArgs& args)
{
  auto text = data_text(args);
  if (!text) return std::unexpected(text.error());
  // Check the input before touching the store: a typo never creates a store.
  if (auto c = records::check_collection(args.target); !c) return c;
  if (auto d = records::parse_object(*text); !d) return std::unexpected(d.error());
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto r = records::create(**store, args.target, *text, timeutil::now_ms());
  if (!r) return std::unexpected(r.error());
  if (ctx.out().json()) ctx.out().json_document(record_json(*r));
  else ctx.out().line(r->id + " version " + std::to_string(r->version) + " (created in " + r->collection + ")");
  return {};
}

Result<void> run_update(Context& ctx, const WriteArgs& args)
{
  auto text = data_text(args);
  if (!text) return std::unexpected(text.error());
  if (auto d = records::parse_object(*text); !d) return std::unexpected(d.error());
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto change = records::update(**store, args.target, *text, timeutil::now_ms());
  if (!change) return std::unexpected(change.error());
  if (ctx.out().json()) ctx.out().json_document(record_json(change->after));
  else ctx.out().line(change->after.id + " version " + std::to_string(change->after.version) + " (updated)");
  return {};
}

Result<void> run_delete(Context& ctx, const std::string& id)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto gone = store::delete_record(**store, id, timeutil::now_ms());
  if (!gone) return std::unexpected(gone.error());
  if (ctx.out().json()) ctx.out().json_document({{"deleted", gone->id}, {"record", record_json(*gone)}});
  else ctx.out().line("deleted " + gone->id + " from " + gone->collection);
  return {};
}

Result<void> run_get(Context& ctx, const std::string& id)
{
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto r = store::get_record(**store, id);
  if (!r) return std::unexpected(r.error());
  if (ctx.out().json()) {
    ctx.out().json_document(record_json(*r));
    return {};
  }
  ctx.out().fields({{"id", r->id},
                    {"collection", r->collection},
                    {"version", std::to_string(r->version)},
                    {"created", timeutil::format_rfc3339(r->created_ms)},
                    {"updated", timeutil::format_rfc3339(r->updated_ms)}});
  ctx.out().line(dump_json(r->data, 2));
  return {};
}

Result<void> run_list(Context& ctx, const ListArgs& args)
{
  if (auto c = records::check_collection(args.collection); !c) return c;
  if (args.limit < 0) return fail(ErrorKind::usage, "--limit must be 0 or more");
  store::RecordFilter filter;
  filter.collection = args.collection;
  const ListLimit limit{args.limit, args.limit_given};
  filter.limit = fetch_limit(limit);
  for (const auto& w : args.where) {
    auto m = records::parse_where(w);
    if (!m) return std::unexpected(m.error());
    filter.where.push_back(std::move(*m));
  }
  auto store = ctx.store();
  if (!store) return std::unexpected(store.error());
  auto rows = store::list_records(**store, filter);
  if (!rows) return std::unexpected(rows.error());
  const bool cut = cut_to_limit(*rows, limit);
  if (ctx.out().json()) {
    auto arr = json::array();
    for (const auto& r : *rows) arr.push_back(record_json(r));
    ctx.out().json_document(arr);
    note_if_cut(ctx.out(), limit, cut, "oldest");
    return {};
  }
  if (rows->empty()) {
    ctx.out().note("no records match in " + args.collection);
    return {};
  }
  std::vector<std::vector<std::string>> table;
  auto now = timeutil::now_ms();
  for (const auto& r : *rows) {
    std::string data = dump_json(r.data);
    if (data.size() > 80) data = data.substr(0, 77) + "...";
    table.push_back({r.id, std::to_string(r.version), timeutil::relative(r.updated_ms, now), data});
  }
  ctx.out().table({"ID", "VERSION", "UPDATED", "DATA"}, table);
  note_if_cut(ctx.out(), limit, cut, "oldest");
  return {};
}

void add_data_option(CLI::App* cmd, WriteArgs& args, const char* help)
{
  cmd->add_option("--data", args.data, help)->type_name("JSON");
}

} // namespace

void add_records_command(CLI::App& app, Selected& selected)
{
  auto* cmd = app.add_subcommand("records", "JSON records in collections; changes emit record_* events");
  cmd->require_subcommand(1);
  cmd->footer("Every change emits record_created, record_updated (with before/after) or record_deleted\n"
              "(source 'local'): event triggers and webhooks react to it like to any ingested event.");

  auto create_args = std::make_shared<WriteArgs>();
  auto* create = cmd->add_subcommand("create", "Create a record (prints its id and version)");
  create->add_option("collection", create_args->target, "Collection name")->required();
  add_data_option(create, *create_args, "The record: a JSON object ('-' or omitted: read stdin)");
  create->footer("Example:\n  centrali records create orders --data '{\"total\": 42, \"status\": \"new\"}'");
  create->callback([&selected, create_args, create] {
    create_args->data_given = create->get_option("--data")->count() > 0;
    selected.run = [create_args](Context& c) { return run_create(c, *create_args); };
  });

  auto update_args = std::make_shared<WriteArgs>();
  auto* update = cmd->add_subcommand("update", "Change a record with a JSON merge patch (RFC 7386); version + 1");
  update->add_option("id", update_args->target, "Record id (rec_...)")->required();
  add_data_option(update, *update_args, "Merge patch: a JSON object; null removes a field ('-': read stdin)");
  update->footer("Example:\n  centrali records update rec_01J... --data '{\"status\": \"paid\", \"note\": null}'");
  update->callback([&selected, update_args, update] {
    update_args->data_given = update->get_option("--data")->count() > 0;
    selected.run = [update_args](Context& c) { return run_update(c, *update_args); };
  });

  auto delete_id = std::make_shared<std::string>();
  auto* del = cmd->add_subcommand("delete", "Delete a record");
  del->add_option("id", *delete_id, "Record id")->required();
  del->footer("Emits record_deleted carrying the record's last data.\nExample:\n  centrali records delete rec_01J...");
  del->callback([&selected, delete_id] { selected.run = [delete_id](Context& c) { return run_delete(c, *delete_id); }; });

  auto get_id = std::make_shared<std::string>();
  auto* get = cmd->add_subcommand("get", "Show one record");
  get->add_option("id", *get_id, "Record id")->required();
  get->footer("Example:\n  centrali records get rec_01J... --json");
  get->callback([&selected, get_id] { selected.run = [get_id](Context& c) { return run_get(c, *get_id); }; });

  auto list_args = std::make_shared<ListArgs>();
  auto* list = cmd->add_subcommand("list", "List the records of a collection, oldest first");
  list->add_option("collection", list_args->collection, "Collection name")->required();
  auto* limit = list->add_option("--limit", list_args->limit, "At most N records (0 = all)")->capture_default_str();
  list->add_option("--where", list_args->where, "Only records whose field equals value (repeatable; a.b for nested)")
      ->type_name("FIELD=VALUE")
      ->allow_extra_args(false);
  list->footer("Example:\n  centrali records list orders --where status=paid --where customer.country=DE");
  list->callback([&selected, list_args, limit] {
    list_args->limit_given = limit->count() > 0;
    selected.run = [list_args](Context& c) { return run_list(c, *list_args); };
  });
}

} // namespace centrali::cli
