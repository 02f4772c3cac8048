#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "centrali/store/events.hpp"
#include "centrali/store/group_commit.hpp"
#include "centrali/store/runs.hpp"
#include "centrali/store/triggers.hpp"
#include "centrali/triggers/runner.hpp"
#include "centrali/util/ids.hpp"
#include "centrali/util/time.hpp"
#include "temp_dir.hpp"

using namespace centrali;
using namespace std::chrono_literals;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

store::Store open_store(const fs::path& path)
{
  auto s = store::Store::open(path);
  REQUIRE(s);
  return std::move(*s);
}

std::string slurp(const fs::path& p)
{
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void add_trigger(store::Store& s, const std::string& name, const std::string& command, int concurrency = 1)
{
  store::Trigger t;
  t.name = name;
  t.kind = "demand";
  t.command = command;
  t.concurrency = concurrency;
  t.params = {{"p", 1}};
  t.timeout_ms = 10'000;
  REQUIRE(store::add_trigger(s, t));
}

std::string queue(store::Store& s, const std::string& trigger, const json& input)
{
  store::Run r;
  r.id = ids::make(ids::k_run);
  r.trigger = trigger;
  r.status = "queued";
  r.origin = "demand";
  r.input = input.dump();
  r.queued_ms = timeutil::now_ms();
  REQUIRE(store::insert_run(s, r));
  return r.id;
}

triggers::RunnerOptions fast()
{
  triggers::RunnerOptions o;
  o.max_parallel = 4;
  o.poll_interval = 20ms;
  return o;
}

} // namespace

TEST_CASE("triggers::Runner::drain runs each queued run with its stdin document and records the result", "[triggers]")
{
  unit::TempDir dir;
  auto path = dir.path() / "s.db";
  auto s = open_store(path);
  auto out = dir.path() / "stdin";
  add_trigger(s, "fn", "cat > " + out.string() + "; echo '{\"ok\": true}'; echo note >&2");
  add_trigger(s, "bad", "echo partial; exit 7");
  auto ok_id = queue(s, "fn", {{"data", {{"k", "v"}}}});
  auto bad_id = queue(s, "bad", {{"data", nullptr}});
  store::GroupCommitter writer(open_store(path));
  std::vector<std::string> lines;
  triggers::Runner runner(writer, path, fast(), [&](const std::string& l) { lines.push_back(l); });
  auto ran = runner.drain();
  REQUIRE(ran);
  CHECK(*ran == 2);

  auto stdin_doc = json::parse(slurp(out));
  CHECK(stdin_doc == json{{"triggerParams", {{"p", 1}}}, {"executionParams", {{"data", {{"k", "v"}}}}}});
  auto ok = store::get_run(s, ok_id);
  REQUIRE(ok);
  CHECK(ok->status == "completed");
  CHECK(ok->exit_code == 0);
  CHECK(json::parse(ok->output) == json{{"ok", true}});
  CHECK(ok->stderr_data == "note\n");
  CHECK(ok->started_ms);
  CHECK(ok->ended_ms);
  CHECK_FALSE(ok->lease_until_ms);
  auto bad = store::get_run(s, bad_id);
  CHECK(bad->status == "failure");
  CHECK(bad->exit_code == 7);
  CHECK(bad->error == "exit code 7");
  CHECK(bad->stdout_data == "partial\n");
  CHECK(bad->output.empty());
  CHECK(lines.size() == 2);
  // Drained: another drain finds nothing to do.
  CHECK(*runner.drain() == 0);
}

TEST_CASE("triggers::Runner: two runners on one store never run the same run twice", "[triggers]")
{
  unit::TempDir dir;
  auto path = dir.path() / "s.db";
  auto s = open_store(path);
  auto log = dir.path() / "ran";
  add_trigger(s, "fn", "echo $CENTRALI_RUN_ID >> " + log.string(), 3);
  std::set<std::string> queued;
  for (int i = 0; i < 24; ++i) queued.insert(queue(s, "fn", {{"data", i}}));
  // Two processes' worth: each runner has its own writer connection.
  store::GroupCommitter writer_a(open_store(path));
  store::GroupCommitter writer_b(open_store(path));
  triggers::Runner a(writer_a, path, fast(), nullptr);
  triggers::Runner b(writer_b, path, fast(), nullptr);
  Result<int> ran_a = 0, ran_b = 0;
  std::thread ta([&] { ran_a = a.drain(); });
  std::thread tb([&] { ran_b = b.drain(); });
  ta.join();
  tb.join();
  INFO((ran_a ? std::string("ok") : ran_a.error().message) << " / " << (ran_b ? std::string("ok") : ran_b.error().message));
  REQUIRE(ran_a);
  REQUIRE(ran_b);
  CHECK(*ran_a + *ran_b == 24);
  std::multiset<std::string> seen;
  std::istringstream in(slurp(log));
  for (std::string line; std::getline(in, line);) seen.insert(line);
  CHECK(seen.size() == 24);
  CHECK(std::set<std::string>(seen.begin(), seen.end()) == queued);
}

TEST_CASE("triggers::Runner marks a run left running by a dead runner as interrupted instead of re-running it",
          "[triggers]")
{
  unit::TempDir dir;
  auto path = dir.path() / "s.db";
  auto s = open_store(path);
  auto marker = dir.path() / "ran";
  add_trigger(s, "fn", "touch " + marker.string());
  store::Run r;
  r.id = ids::make(ids::k_run);
  r.trigger = "fn";
  r.status = "running";
  r.origin = "demand";
  r.queued_ms = 1;
  r.started_ms = 1;
  r.lease_until_ms = timeutil::now_ms() - 1;  // its runner died and the lease ran out
  REQUIRE(store::insert_run(s, r));
  store::GroupCommitter writer(open_store(path));
  triggers::Runner runner(writer, path, fast(), nullptr);
  CHECK(*runner.drain() == 0);
  auto got = store::get_run(s, r.id);
  CHECK(got->status == "failure");
  CHECK(got->error == "interrupted (the runner stopped)");
  CHECK_FALSE(fs::exists(marker));
}

TEST_CASE("triggers::Runner builds an event run's input from its event, and fails it when the event is gone",
          "[triggers]")
{
  unit::TempDir dir;
  auto path = dir.path() / "s.db";
  auto s = open_store(path);
  auto out = dir.path() / "stdin";
  add_trigger(s, "fn", "cat > " + out.string() + "; printf %s \"$CENTRALI_EVENT_TYPE\"");
  store::Event e;
  e.id = ids::make(ids::k_event);
  e.source = "shop";
  e.type = "order.paid";
  e.status = "accepted";
  e.headers = {{"X-Shop-Topic", "order"}};
  e.body = R"({"n":5})";
  e.received_ms = 1000;
  REQUIRE(store::insert_event(s, e, false));
  auto make_run = [&](const std::string& event_id) {
    store::Run r;
    r.id = ids::make(ids::k_run);
    r.trigger = "fn";
    r.status = "queued";
    r.origin = "event";
    r.event_id = event_id;
    r.queued_ms = 1;
    REQUIRE(store::insert_run(s, r));
    return r.id;
  };
  auto good = make_run(e.id);
  auto missing = make_run("evt_missing");
  store::GroupCommitter writer(open_store(path));
  triggers::Runner runner(writer, path, fast(), nullptr);
  CHECK(*runner.drain() == 2);
  auto doc = json::parse(slurp(out));
  CHECK(doc["executionParams"]["event"]["id"] == e.id);
  CHECK(doc["executionParams"]["event"]["type"] == "order.paid");
  CHECK(doc["executionParams"]["event"]["source"] == "shop");
  CHECK(doc["executionParams"]["event"]["data"] == json{{"n", 5}});
  CHECK(doc["executionParams"]["event"]["headers"] == json{{"x-shop-topic", "order"}});
  CHECK(store::get_run(s, good)->stdout_data == "order.paid");
  auto m = store::get_run(s, missing);
  CHECK(m->status == "failure");
  CHECK_THAT(m->error, Catch::Contains("cannot read event evt_missing"));
}

TEST_CASE("triggers::Runner started as a service runs what is queued once woken", "[triggers]")
{
  unit::TempDir dir;
  auto path = dir.path() / "s.db";
  auto s = open_store(path);
  add_trigger(s, "fn", "echo hi");
  store::GroupCommitter writer(open_store(path));
  triggers::RunnerOptions slow_poll;
  slow_poll.poll_interval = 60s;  // only the wake-up can start it in time
  triggers::Runner runner(writer, path, slow_poll, nullptr);
  runner.start();
  // Time for the claim thread's first (empty) claim, so the run queued next
  // waits for wake() or the 60 s poll. Nothing shows that it has claimed,
  // so this stays a sleep: if it is too short, the first claim finds the
  // run and the test proves less, but it cannot fail wrongly.
  std::this_thread::sleep_for(50ms);
  auto id = queue(s, "fn", {{"data", nullptr}});
  runner.wake();
  std::string status;
  for (int i = 0; i < 200 && status != "completed"; ++i) {
    std::this_thread::sleep_for(20ms);
    status = store::get_run(s, id)->status;
  }
  runner.stop();
  CHECK(status == "completed");
}
