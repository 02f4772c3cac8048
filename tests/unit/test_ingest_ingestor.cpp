// The ingestor (ingest/ingestor.hpp) as the listener drives it: a request
// in, an answer out through the real group committer and a real store. What
// is checked is what a sender and a user rely on: a 2xx only for what is on
// disk, refusals kept (within their bound) and answered as documented, one
// row per provider delivery id, and a failing store answered as a failure.
#include <catch2/catch.hpp>

#include <SQLiteCpp/Database.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "centrali/ingest/ingestor.hpp"
#include "centrali/signatures/signatures.hpp"
#include "centrali/store/deliveries.hpp"
#include "centrali/store/events.hpp"
#include "centrali/store/fanout.hpp"
#include "centrali/store/sources.hpp"
#include "centrali/util/time.hpp"
#include "scratch_postgres.hpp"
#include "temp_store.hpp"
#include "wal_sync_recorder.hpp"

using namespace centrali;
namespace fs = std::filesystem;

namespace {

constexpr const char* k_standard_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

struct Post {
  std::string method = "POST";
  std::string path;  // /ingest/<source>
  HeaderList headers;
  std::string body;
};

// A store, its group committer and an ingestor on it, as `listen` wires
// them (the ingestor reads sources through a connection of its own).
class IngestRig {
public:
  // `location`: a store of the test's own (a PostgreSQL database's URL);
  // a SQLite file in a temp folder by default.
  explicit IngestRig(ingest::IngestOptions options = {}, std::optional<fs::path> lookup_path = std::nullopt,
                     std::optional<std::string> location = std::nullopt)
      : m_path(location ? fs::path(*location) : m_dir.path() / "s.db"), m_admin(open_admin(m_path))
  {
    auto writer_store = store::Store::open(m_path);
    REQUIRE(writer_store);
    m_writer = std::make_unique<store::GroupCommitter>(std::move(*writer_store));
    auto witness = store::Store::open(m_path);
    REQUIRE(witness);
    m_witness = std::make_unique<store::Store>(std::move(*witness));
    m_ingestor = std::make_unique<ingest::Ingestor>(*m_writer, lookup_path.value_or(m_path), std::move(options),
                                                    [this](bool forwarded) {
                                                      // Runs on the writer thread, after the commit.
                                                      accepted_visible_at_callback = count(*m_witness, "status = 'accepted'");
                                                      ++accepted_calls;
                                                      if (forwarded) ++forwarded_calls;
                                                    });
  }
  ~IngestRig()
  {
    m_ingestor.reset();
    m_writer.reset();
  }

  store::Store& admin() { return m_admin; }
  store::GroupCommitter& writer() { return *m_writer; }
  const fs::path& path() const { return m_path; }

  void add_source(const std::string& name, const std::string& provider, std::vector<std::string> secrets = {},
                  const std::string& forward_to = "")
  {
    store::Source s;
    s.name = name;
    s.provider = provider;
    s.secrets = std::move(secrets);
    s.forward_to = forward_to;
    s.created_ms = 1;
    REQUIRE(store::add_source(m_admin, s));
  }

  // Hands `post` to the ingestor and waits (bounded) for its answer.
  // `at_answer` runs on the writer thread when the answer is given, with
  // a connection of its own to look at the store at that moment.
  http::Response post(Post post, std::function<void(const http::Response&, store::Store&)> at_answer = {})
  {
    http::Request req;
    req.method = post.method;
    req.path = post.path;
    req.target = post.path;
    req.host = "127.0.0.1";
    req.remote_addr = "127.0.0.1";
    for (const auto& h : post.headers) req.header_bytes += h.name.size() + h.value.size() + 4;
    req.headers = post.headers;
    req.body = post.body;
    auto answered = std::make_shared<std::promise<http::Response>>();
    auto future = answered->get_future();
    m_ingestor->handle(req, [this, answered, at_answer](http::Response res) {
      if (at_answer) at_answer(res, *m_witness);
      answered->set_value(std::move(res));
    });
    REQUIRE(future.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    return future.get();
  }

  // Hands `post` to the ingestor; the future holds its answer.
  std::future<http::Response> post_async(Post post)
  {
    http::Request req;
    req.method = post.method;
    req.path = req.target = post.path;
    req.host = req.remote_addr = "127.0.0.1";
    req.headers = post.headers;
    req.body = post.body;
    auto answered = std::make_shared<std::promise<http::Response>>();
    auto future = answered->get_future();
    m_ingestor->handle(req, [answered](http::Response res) { answered->set_value(std::move(res)); });
    return future;
  }

  // How many events `where` selects.
  std::int64_t count(const std::string& where) { return count(m_admin, where); }
  static std::int64_t count(store::Store& s, const std::string& where)
  {
    return s.query_int64("SELECT count(*) FROM events WHERE " + where);
  }

  std::atomic<int> accepted_calls{0};
  std::atomic<int> forwarded_calls{0};
  std::atomic<std::int64_t> accepted_visible_at_callback{-1};

private:
  static store::Store open_admin(const fs::path& location)
  {
    auto opened = store::Store::open(location);
    REQUIRE(opened);
    return std::move(*opened);
  }

  unit::TempDir m_dir;
  fs::path m_path;
  store::Store m_admin;
  std::unique_ptr<store::GroupCommitter> m_writer;
  std::unique_ptr<store::Store> m_witness;
  std::unique_ptr<ingest::Ingestor> m_ingestor;
};

std::string field(const std::string& json_body, const char* name)
{
  auto doc = nlohmann::json::parse(json_body, nullptr, false);
  if (!doc.is_object() || !doc.contains(name) || !doc[name].is_string()) return {};
  return doc[name].get<std::string>();
}

// The only event stored (fails the test unless there is exactly one).
store::Event only_event(store::Store& s)
{
  store::EventFilter all;
  all.limit = 0;
  all.with_body = true;
  auto events = store::list_events(s, all);
  REQUIRE(events);
  REQUIRE(events->size() == 1);
  return events->front();
}

HeaderList standard_headers(const std::string& webhook_id, const std::string& body)
{
  sig::SignInput in;
  in.scheme = sig::Scheme::standard;
  in.secrets = {k_standard_secret};
  in.id = webhook_id;
  in.timestamp = timeutil::now_ms() / 1000;
  in.body = body;
  auto headers = sig::sign(in);
  REQUIRE(headers);
  headers->push_back({"Content-Type", "application/json"});
  return *headers;
}

} // namespace

TEST_CASE("ingest::Ingestor answers 202 only once the accepted event is committed and its WAL frames are fsynced",
          "[ingest]")
{
  unit::WalSyncRecorder wal;  // before any connection opens
  {
    IngestRig rig;
    rig.add_source("app", "none");
    const std::string body("\x00\xff{\"a\":1}\r\n\x80", 13);  // exact bytes, not UTF-8
    const auto writes_before = wal.wal_writes();
    std::string stored_body_when_answered;
    bool synced_when_answered = false;
    std::uint64_t writes_when_answered = 0;
    auto res = rig.post({"POST", "/ingest/app", {{"Content-Type", "application/octet-stream"}}, body},
                        [&](const http::Response& r, store::Store& witness) {
                          synced_when_answered = wal.wal_synced_after_last_write();
                          writes_when_answered = wal.wal_writes();
                          auto ev = store::get_event(witness, field(r.body, "id"));
                          if (ev) stored_body_when_answered = ev->body;
                        });
    CHECK(res.status == 202);
    CHECK(field(res.body, "status") == "queued");
    CHECK(field(res.body, "id").starts_with("evt_"));
    // Readable by another connection, byte for byte, when the sender hears 202...
    CHECK(stored_body_when_answered == body);
    // ...and its frames were on the disk: written, then synced, before the answer.
    CHECK(writes_when_answered > writes_before);
    CHECK(synced_when_answered);
    // The fan-out was woken once, after the commit, with the event visible.
    CHECK(rig.accepted_calls == 1);
    CHECK(rig.forwarded_calls == 0);
    CHECK(rig.accepted_visible_at_callback == 1);

    // A refusal is stored without an fsync of its own (a flood of bad
    // requests must not slow good ones): the recorder can tell the two apart.
    const auto refused_writes_before = wal.wal_writes();
    bool refusal_synced = true;
    std::uint64_t refusal_writes = 0;
    auto refused = rig.post({"POST", "/ingest/nosuch", {}, "{}"}, [&](const http::Response&, store::Store&) {
      refusal_synced = wal.wal_synced_after_last_write();
      refusal_writes = wal.wal_writes();
    });
    CHECK(refused.status == 404);
    CHECK(refusal_writes > refused_writes_before);
    CHECK_FALSE(refusal_synced);
    CHECK(rig.accepted_calls == 1);
  }
}

TEST_CASE("ingest::Ingestor keeps a refused request's body only up to 64 KiB, and none of one no source took",
          "[ingest]")
{
  IngestRig rig;
  rig.add_source("gh", "github", {"It's a Secret to Everybody"});
  std::string big(100 * 1024, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);

  auto res = rig.post({"POST", "/ingest/gh", {{"X-GitHub-Event", "push"}, {"X-Hub-Signature-256", "sha256=00"}}, big});
  CHECK(res.status == 401);
  CHECK(field(res.body, "error") == "invalid_signature");
  auto ev = only_event(rig.admin());
  CHECK(ev.status == "rejected");
  CHECK(ev.http_status == 401);
  CHECK(ev.body == big.substr(0, 64 * 1024));
  CHECK_THAT(ev.reason, Catch::Contains("body of 102400 bytes: first 64 KiB kept"));
  CHECK(rig.accepted_calls == 0);

  SECTION("a refused body of exactly 64 KiB is kept whole, and says nothing was cut")
  {
    rig.admin().exec("DELETE FROM events");
    auto edge = big.substr(0, 64 * 1024);
    CHECK(rig.post({"POST", "/ingest/gh", {{"X-Hub-Signature-256", "sha256=00"}}, edge}).status == 401);
    auto kept = only_event(rig.admin());
    CHECK(kept.body == edge);
    CHECK_THAT(kept.reason, !Catch::Contains("kept"));
  }
  SECTION("an unknown source keeps no body, and says how large it was")
  {
    rig.admin().exec("DELETE FROM events");
    auto unknown = rig.post({"POST", "/ingest/nosuch", {}, "twelve bytes"});
    CHECK(unknown.status == 404);
    CHECK(field(unknown.body, "error") == "unknown_source");
    auto kept = only_event(rig.admin());
    CHECK(kept.source == "nosuch");
    CHECK(kept.status == "rejected");
    CHECK(kept.body.empty());
    CHECK_THAT(kept.reason, Catch::EndsWith("(body of 12 bytes not kept)"));
  }
  SECTION("a wrong method is answered 405 with Allow: POST and keeps no body")
  {
    rig.admin().exec("DELETE FROM events");
    auto wrong = rig.post({"PUT", "/ingest/gh", {}, "payload"});
    CHECK(wrong.status == 405);
    const auto* allow = find_header(wrong.headers, "Allow");
    REQUIRE(allow);
    CHECK(*allow == "POST");
    auto kept = only_event(rig.admin());
    CHECK(kept.method == "PUT");
    CHECK(kept.body.empty());
  }
}

TEST_CASE("ingest::Ingestor stores one accepted row per provider delivery id and answers a repeat 200 duplicate",
          "[ingest]")
{
  IngestRig rig;
  rig.add_source("std", "standard", {k_standard_secret});
  rig.add_source("other", "standard", {k_standard_secret});
  const std::string body = R"({"type":"order.created","data":{"n":1}})";

  auto first = rig.post({"POST", "/ingest/std", standard_headers("msg_1", body), body});
  REQUIRE(first.status == 202);
  const auto original = field(first.body, "id");
  // The provider retries: same delivery id, signed afresh.
  auto repeat = rig.post({"POST", "/ingest/std", standard_headers("msg_1", body), body});
  CHECK(repeat.status == 200);
  CHECK(field(repeat.body, "status") == "duplicate");
  CHECK(field(repeat.body, "id") == original);
  CHECK(rig.count("source = 'std' AND dedupe_key = 'msg_1' AND status = 'accepted'") == 1);
  CHECK(rig.count("status = 'duplicate' AND duplicate_of = '" + original + "' AND http_status = 200") == 1);
  // Only the original wakes the fan-out, and only it waits for one.
  CHECK(rig.accepted_calls == 1);
  auto pending = store::pending_events(rig.admin(), 10, store::PendingBodies::records);
  REQUIRE(pending);
  REQUIRE(pending->size() == 1);
  CHECK(pending->front().id == original);

  // Another delivery id, or the same one at another source, is new.
  CHECK(rig.post({"POST", "/ingest/std", standard_headers("msg_2", body), body}).status == 202);
  CHECK(rig.post({"POST", "/ingest/other", standard_headers("msg_1", body), body}).status == 202);
  CHECK(rig.count("status = 'accepted'") == 3);
  CHECK(rig.accepted_calls == 3);
}

TEST_CASE("ingest::Ingestor stores requests that wait for one commit together, each answered for itself, "
          "and one that cannot be stored fails alone", "[ingest]")
{
  IngestRig rig;
  rig.add_source("std", "standard", {k_standard_secret});
  // Made before the writer is held: the held writer keeps the store's write lock.
  rig.admin().exec("CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.body = CAST('{\"poison\":1}' AS BLOB) "
                   "BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END");
  // The writer is held busy, so the requests below wait for it together.
  std::promise<void> release;
  auto held = release.get_future().share();
  auto busy = rig.writer().submit([held](store::Store&) -> Result<void> {
    held.wait();
    return {};
  });
  std::vector<std::future<http::Response>> answers;
  std::vector<std::string> bodies;
  for (int i = 0; i < 40; ++i) {
    bodies.push_back(i == 17 ? R"({"poison":1})" : R"({"n":)" + std::to_string(i) + "}");
    // Request 30 repeats request 3's delivery id; request 9 has no source.
    const auto msg = "msg_" + std::to_string(i == 30 ? 3 : i);
    answers.push_back(rig.post_async({"POST", i == 9 ? "/ingest/nosuch" : "/ingest/std",
                                      standard_headers(msg, bodies.back()), bodies.back()}));
  }
  release.set_value();
  REQUIRE(busy.get());
  std::set<std::string> ids;
  for (int i = 0; i < 40; ++i) {
    REQUIRE(answers[i].wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    auto res = answers[i].get();
    INFO("request " << i << ": " << res.status << " " << res.body);
    if (i == 17) {
      CHECK(res.status == 503);
      continue;
    }
    if (i == 9) {
      CHECK(res.status == 404);
      continue;
    }
    if (i == 30) {
      CHECK(res.status == 200);
      CHECK(field(res.body, "status") == "duplicate");
      continue;
    }
    CHECK(res.status == 202);
    const auto id = field(res.body, "id");
    CHECK(ids.insert(id).second);
    // Each answer names the event that holds this request's own body.
    auto stored = store::get_event(rig.admin(), id);
    REQUIRE(stored);
    CHECK(stored->body == bodies[static_cast<std::size_t>(i)]);
  }
  CHECK(rig.count("status = 'accepted'") == 37);
  CHECK(rig.count("status = 'duplicate'") == 1);
  CHECK(rig.count("status = 'rejected'") == 1);
  CHECK(rig.count("CAST(body AS TEXT) LIKE '%poison%'") == 0);
  CHECK(rig.accepted_calls == 37);
}

TEST_CASE("ingest::Ingestor on PostgreSQL inserts each batch on a plan made once, and looks a repeated delivery id up "
          "on a plan made for the rows",
          "[ingest][postgres]")
{
  if (!testing::postgres_available()) {
    WARN("CENTRALI_TEST_POSTGRES is not set: skipped (needs a PostgreSQL server)");
    return;
  }
  testing::ScratchDatabase db;
  IngestRig rig({}, std::nullopt, db.url());
  rig.add_source("std", "standard", {k_standard_secret});
  // One by one: a batch (and an insert) each.
  for (int i = 0; i < 8; ++i) {
    const auto body = R"({"n":)" + std::to_string(i) + "}";
    CHECK(rig.post({"POST", "/ingest/std", standard_headers("msg_" + std::to_string(i), body), body}).status == 202);
  }
  const auto repeat = rig.post({"POST", "/ingest/std", standard_headers("msg_3", R"({"n":3})"), R"({"n":3})"});
  CHECK(repeat.status == 200);
  CHECK(field(repeat.body, "status") == "duplicate");
  // What the writer's own session planned (prepared statements are the session's).
  // (Read on the writer's thread; checked here.)
  std::int64_t insert_generic = -1, insert_custom = -1, lookup_generic = -1, lookup_custom = -1;
  REQUIRE(rig.writer()
              .submit([&](store::Store& s) -> Result<void> {
                auto plans = [&](const char* start, std::int64_t& generic, std::int64_t& custom) {
                  auto& st = s.statement("SELECT coalesce(sum(generic_plans), 0)::bigint, "
                                         "coalesce(sum(custom_plans), 0)::bigint FROM pg_prepared_statements "
                                         "WHERE statement LIKE ? || '%'");
                  st.bind(1, std::string(start));
                  if (st.step()) {
                    generic = st.column(0).as_int64();
                    custom = st.column(1).as_int64();
                  }
                  st.reset();
                };
                plans("INSERT INTO events", insert_generic, insert_custom);
                plans("SELECT id FROM events WHERE source", lookup_generic, lookup_custom);
                return {};
              })
              .get());
  // Nine batches; the repeat's duplicate row, inserted after its lookup, is
  // planned for its run as the rest of its transaction is.
  CHECK(insert_generic == 9);
  CHECK(insert_custom == 1);
  // Planned once on a table of a few rows, the lookup would scan it whole
  // however large it grows.
  CHECK(lookup_generic == 0);
  CHECK(lookup_custom == 1);
  CHECK(rig.count("status = 'accepted'") == 8);
  CHECK(rig.count("status = 'duplicate'") == 1);
}

TEST_CASE("ingest::Ingestor stores a type from the network at most 200 bytes, without spaces or control characters",
          "[ingest]")
{
  IngestRig rig;
  rig.add_source("app", "none");
  std::string type = "order created\x1b[2J\x7f\t";
  for (int i = 0; i < 150; ++i) type += "\xc3\xa9";  // é: two bytes each
  CHECK(rig.post({"POST", "/ingest/app", {{"X-Event-Type", type}}, "{}"}).status == 202);
  auto ev = only_event(rig.admin());
  CHECK(ev.type.starts_with("order_created_[2J__"));
  CHECK(ev.type.size() <= 200);
  for (unsigned char c : ev.type) CHECK((c > 0x20 && c != 0x7f));
  CHECK(ev.type.ends_with("\xc3\xa9"));  // cut on a character boundary
}

TEST_CASE("ingest::Ingestor answers 503 and wakes nothing when the store cannot take the event", "[ingest]")
{
  IngestRig rig;
  rig.add_source("app", "none");

  SECTION("the write fails: no 2xx, no internal text, nothing half stored")
  {
    rig.admin().exec("CREATE TRIGGER refuse BEFORE INSERT ON events "
                          "BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END");
    auto res = rig.post({"POST", "/ingest/app", {}, "{}"});
    CHECK(res.status == 503);
    CHECK(res.body == R"({"error":"store_unavailable"})");
    CHECK_THAT(res.note, Catch::Contains("simulated write failure"));  // the log says why
    CHECK(rig.accepted_calls == 0);
    CHECK(rig.count("1") == 0);
    // A refusal that cannot be stored is not answered as handled either.
    CHECK(rig.post({"POST", "/ingest/nosuch", {}, "{}"}).status == 503);
    rig.admin().exec("DROP TRIGGER refuse");
    CHECK(rig.post({"POST", "/ingest/app", {}, "{}"}).status == 202);
    CHECK(rig.accepted_calls == 1);
  }
  SECTION("the writer has stopped")
  {
    rig.writer().stop();
    auto res = rig.post({"POST", "/ingest/app", {}, "{}"});
    CHECK(res.status == 503);
    CHECK(res.body == R"({"error":"store_unavailable"})");
    CHECK(rig.accepted_calls == 0);
    CHECK(rig.count("1") == 0);
  }
}

TEST_CASE("ingest::Ingestor answers 503 and stores nothing when its sources cannot be read", "[ingest]")
{
  unit::TempDir elsewhere;
  const auto not_a_store = elsewhere.path() / "not-a-store";
  std::ofstream(not_a_store) << "this is not SQLite, and is long enough to have a header of sorts\n";
  IngestRig rig({}, not_a_store);
  auto res = rig.post({"POST", "/ingest/app", {}, "{}"});
  CHECK(res.status == 503);
  CHECK(res.body == R"({"error":"store_unavailable"})");
  CHECK(rig.count("1") == 0);
  CHECK(rig.accepted_calls == 0);
}

TEST_CASE("ingest::Ingestor queues a forward of an accepted event, committed with it, to the source's target first",
          "[ingest]")
{
  ingest::IngestOptions options;
  options.forward_to = "http://127.0.0.1:9/listener-default";
  IngestRig rig(options);
  rig.add_source("own", "none", {}, "http://127.0.0.1:9/own-target");
  rig.add_source("plain", "none");

  auto forward_of = [](store::Store& s, const std::string& event_id) {
    auto d = store::deliveries_for_event(s, event_id);
    REQUIRE(d);
    return *d;
  };
  std::vector<store::Delivery> at_answer;
  auto res = rig.post({"POST", "/ingest/own", {}, "{}"}, [&](const http::Response& r, store::Store& witness) {
    at_answer = forward_of(witness, field(r.body, "id"));
  });
  REQUIRE(res.status == 202);
  REQUIRE(at_answer.size() == 1);
  CHECK(at_answer[0].kind == "forward");
  CHECK(at_answer[0].url == "http://127.0.0.1:9/own-target");
  CHECK(at_answer[0].status == "pending");
  CHECK(rig.forwarded_calls == 1);

  auto plain = rig.post({"POST", "/ingest/plain", {}, "{}"});
  REQUIRE(plain.status == 202);
  auto to_default = forward_of(rig.admin(), field(plain.body, "id"));
  REQUIRE(to_default.size() == 1);
  CHECK(to_default[0].url == "http://127.0.0.1:9/listener-default");
  CHECK(rig.forwarded_calls == 2);

  // A refusal is never forwarded.
  auto refused = rig.post({"POST", "/ingest/nosuch", {}, "{}"});
  CHECK(refused.status == 404);
  CHECK(rig.admin().query_int64("SELECT count(*) FROM deliveries") == 2);
}

TEST_CASE("ingest::Ingestor answers 500 source_misconfigured when a secret reference cannot be read, and says why "
          "only to the store",
          "[ingest]")
{
  IngestRig rig;
  ::unsetenv("CENTRALI_TEST_INGEST_UNSET_SECRET");
  rig.add_source("envsrc", "standard", {"env:CENTRALI_TEST_INGEST_UNSET_SECRET"});
  const std::string body = R"({"type":"order.created"})";
  auto res = rig.post({"POST", "/ingest/envsrc", standard_headers("msg_1", body), body});
  CHECK(res.status == 500);
  CHECK(res.body == R"({"error":"source_misconfigured"})");
  auto ev = only_event(rig.admin());
  CHECK(ev.status == "rejected");
  CHECK(ev.http_status == 500);
  CHECK_THAT(ev.reason, Catch::Contains("env:CENTRALI_TEST_INGEST_UNSET_SECRET"));
  CHECK(rig.accepted_calls == 0);
}

TEST_CASE("ingest::Ingestor refuses requests posing as local events, and forwards that loop back", "[ingest]")
{
  IngestRig rig;
  rig.add_source("local", "none");  // as a store made before the name was refused may hold
  rig.add_source("app", "none");
  auto local = rig.post({"POST", "/ingest/local", {}, "{}"});
  CHECK(local.status == 404);
  CHECK(field(local.body, "error") == "unknown_source");
  auto looped = rig.post({"POST", "/ingest/app", {{"Centrali-Forward-Hops", "5"}}, "{}"});
  CHECK(looped.status == 508);
  CHECK(field(looped.body, "error") == "loop_detected");
  CHECK(rig.post({"POST", "/ingest/app", {{"Centrali-Forward-Hops", "4"}}, "{}"}).status == 202);
  CHECK(rig.count("status = 'rejected'") == 2);
  CHECK(rig.count("status = 'accepted' AND source = 'app'") == 1);
}

TEST_CASE("ingest::Ingestor refuses a head over its limit with 431 and keeps only that much of it", "[ingest]")
{
  ingest::IngestOptions options;
  options.max_header_bytes = 1024;
  IngestRig rig(options);
  rig.add_source("app", "none");
  HeaderList headers;
  for (int i = 0; i < 20; ++i) headers.push_back({"X-Filler-" + std::to_string(i), std::string(100, 'f')});
  auto res = rig.post({"POST", "/ingest/app", headers, "{}"});
  CHECK(res.status == 431);
  CHECK(field(res.body, "error") == "headers_too_large");
  auto ev = only_event(rig.admin());
  CHECK(ev.http_status == 431);
  std::size_t kept = 0;
  for (const auto& h : ev.headers) kept += h.name.size() + h.value.size();
  CHECK(kept <= 1024);
  CHECK(!ev.headers.empty());
}
