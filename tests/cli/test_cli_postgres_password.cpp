// A PostgreSQL store's URL may carry its password; no output, log line or
// error of any command shows it. Needs a server (CENTRALI_TEST_POSTGRES);
// trust authentication there takes any password, so a made-up one is
// carried through every connection these commands open.
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <string>

#include "listener.hpp"
#include "process.hpp"
#include "test_store.hpp"

using namespace testing;

namespace {

constexpr const char* k_password = "sekrit-pw-41";

// `url` with k_password in its user info.
std::string with_password(const std::string& url)
{
  const auto at = url.find('@');
  REQUIRE(at != std::string::npos);
  return url.substr(0, at) + ":" + k_password + url.substr(at);
}

} // namespace

TEST_CASE("a PostgreSQL store URL's password never shows in output, logs or errors", "[cli][postgres]")
{
  if (!std::getenv("CENTRALI_TEST_POSTGRES")) {
    WARN("CENTRALI_TEST_POSTGRES is not set: skipped (dev.sh test sets it)");
    return;
  }
  std::string name;
  const auto store = with_password(make_test_database(name));
  struct Drop {
    std::string name;
    ~Drop() { drop_test_database(name); }
  } drop{name};

  std::string seen;
  auto run = [&](const std::vector<std::string>& args) {
    auto r = centrali(args);
    seen += r.out + r.err;
    return r;
  };
  CHECK(run({"--store", store, "-v", "store", "info"}).exit_code == 0);
  CHECK(run({"--store", store, "--json", "store", "info"}).exit_code == 0);
  CHECK(run({"--store", store, "events", "emit", "order.created", "--data", "{}"}).exit_code == 0);
  CHECK(run({"--store", store, "-v", "dispatch", "--until-idle"}).exit_code == 0);
  {
    Listen l(store, {}, {});
    CHECK(l.process().stop(SIGTERM) == 0);
    seen += l.process().err();
  }
  {
    Background json_listen({centrali_binary(), "--store", store, "--json", "listen", "--port", "0"});
    auto first = json_listen.read_line();
    REQUIRE(first);
    seen += *first;
    CHECK(first->find("\"store\"") != std::string::npos);
    CHECK(json_listen.stop(SIGTERM) == 0);
    seen += json_listen.err();
  }
  // A server that is not there: the error names the store, not its password.
  auto gone = run({"--store", std::string("postgresql://centrali:") + k_password + "@127.0.0.1:1/nothing", "store", "info"});
  CHECK(gone.exit_code == 4);
  CHECK(gone.err.find("postgresql://centrali:***@127.0.0.1:1/nothing") != std::string::npos);

  INFO(seen);
  CHECK(seen.find(k_password) == std::string::npos);
  CHECK(seen.find("***") != std::string::npos);
}
