// Secret references as a source uses them (ingest/secrets.hpp,
// ingest/source_keys.hpp): what `file:` and `env:` resolve to and when
// they fail, what a source with an unreadable reference keeps, and how
// soon a running listener sees a change (the source cache).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include <unistd.h>

#include "centrali/ingest/secrets.hpp"
#include "centrali/ingest/source_keys.hpp"
#include "centrali/store/sources.hpp"
#include "temp_store.hpp"

using namespace centrali;
using namespace centrali::ingest;

namespace {

std::string write_file(const unit::TempDir& dir, const std::string& name, const std::string& content)
{
  auto path = (dir.path() / name).string();
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

void add_source(store::Store& s, const std::string& name, std::vector<std::string> secrets,
                const std::string& provider = "standard")
{
  store::Source src;
  src.name = name;
  src.provider = provider;
  src.secrets = std::move(secrets);
  src.created_ms = 1;
  REQUIRE(store::add_source(s, src));
}

} // namespace

TEST_CASE("ingest::resolve_secret reads the first line of a file: line end and trailing spaces off, nothing else",
          "[ingest]")
{
  unit::TempDir dir;
  CHECK(resolve_secret("file:" + write_file(dir, "plain", "whsec_abc")).value_or("") == "whsec_abc");
  CHECK(resolve_secret("file:" + write_file(dir, "crlf", "whsec_abc\r\n")).value_or("") == "whsec_abc");
  CHECK(resolve_secret("file:" + write_file(dir, "spaces", "  lead kept  \nnext")).value_or("") == "  lead kept");
  // Only what a line end or an editor adds goes; a tab inside a secret is the secret's.
  CHECK(resolve_secret("file:" + write_file(dir, "tab", "a\tb")).value_or("") == "a\tb");
}

TEST_CASE("ingest::resolve_secret refuses an empty secret rather than verify with one", "[ingest]")
{
  unit::TempDir dir;
  for (const char* content : {"", "\n", "\r\n", "   \nsecret on the second line\n"}) {
    INFO("file content: " << content);
    auto path = write_file(dir, "empty", content);
    auto r = resolve_secret("file:" + path);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::usage);
    CHECK_THAT(r.error().message, Catch::Contains(path));
  }
  ::setenv("CENTRALI_TEST_SECRET_EMPTY", "", 1);
  auto empty_env = resolve_secret("env:CENTRALI_TEST_SECRET_EMPTY");
  ::unsetenv("CENTRALI_TEST_SECRET_EMPTY");
  REQUIRE_FALSE(empty_env);
  CHECK(empty_env.error().kind == ErrorKind::usage);
  CHECK_THAT(empty_env.error().message, Catch::Contains("env:CENTRALI_TEST_SECRET_EMPTY"));
  auto no_path = resolve_secret("file:");
  REQUIRE_FALSE(no_path);
  CHECK(no_path.error().kind == ErrorKind::usage);
}

TEST_CASE("ingest::resolve_secret says which reference failed, never the secret of a readable one", "[ingest]")
{
  unit::TempDir dir;
  auto path = write_file(dir, "unreadable", "whsec_do_not_print_me\n");
  std::filesystem::permissions(path, std::filesystem::perms::none);
  auto r = resolve_secret("file:" + path);
  if (::geteuid() == 0) {
    SUCCEED("root reads any file: nothing to refuse");
    return;
  }
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains(path));
  CHECK_THAT(r.error().message, !Catch::Contains("do_not_print_me"));
}

TEST_CASE("ingest::read_source_keys resolves each reference and keeps why one could not be", "[ingest]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  auto path = write_file(dir, "key", "whsec_from_file\n");
  ::setenv("CENTRALI_TEST_SOURCE_KEY", "whsec_from_env", 1);
  ::unsetenv("CENTRALI_TEST_SOURCE_KEY_UNSET");
  add_source(s, "good", {"whsec_literal", "file:" + path, "env:CENTRALI_TEST_SOURCE_KEY"});
  add_source(s, "half", {"whsec_literal", "env:CENTRALI_TEST_SOURCE_KEY_UNSET"}, "github");

  auto good = read_source_keys(s, "good");
  REQUIRE(good);
  CHECK(good->exists);
  CHECK(good->provider == Provider::standard);
  CHECK(good->secrets == std::vector<std::string>{"whsec_literal", "whsec_from_file", "whsec_from_env"});
  CHECK(good->secret_error.empty());
  // The store keeps the references, not what they resolve to.
  CHECK(good->source.secrets[1] == "file:" + path);

  auto half = read_source_keys(s, "half");
  REQUIRE(half);
  CHECK(half->exists);
  CHECK(half->provider == Provider::github);
  CHECK(half->secrets == std::vector<std::string>{"whsec_literal"});
  CHECK_THAT(half->secret_error, Catch::Contains("env:CENTRALI_TEST_SOURCE_KEY_UNSET"));

  auto none = read_source_keys(s, "absent");
  REQUIRE(none);
  CHECK_FALSE(none->exists);
  ::unsetenv("CENTRALI_TEST_SOURCE_KEY");
}

TEST_CASE("ingest::SourceKeyCache finds a new source at once and sees a change or removal after its period",
          "[ingest]")
{
  unit::TempDir dir;
  auto s = unit::open_store(dir);
  auto path = write_file(dir, "key", "whsec_first\n");
  SourceKeyCache cache(s.path(), 100);

  auto unknown = cache.lookup("src", 1'000);
  REQUIRE(unknown);
  CHECK_FALSE(unknown->exists);
  // `sources add` then a request at once: found, not a cached miss.
  add_source(s, "src", {"file:" + path});
  auto added = cache.lookup("src", 1'000);
  REQUIRE(added);
  CHECK(added->exists);
  CHECK(added->secrets == std::vector<std::string>{"whsec_first"});

  // A rotated file and a removed source: the old keys still serve within
  // the period, so a burst reads the file once...
  write_file(dir, "key", "whsec_second\n");
  auto cached = cache.lookup("src", 1'099);
  REQUIRE(cached);
  CHECK(cached->secrets == std::vector<std::string>{"whsec_first"});
  // ...and after it the new ones.
  auto rotated = cache.lookup("src", 1'100);
  REQUIRE(rotated);
  CHECK(rotated->secrets == std::vector<std::string>{"whsec_second"});

  REQUIRE(store::remove_source(s, "src"));
  auto removed = cache.lookup("src", 1'200);
  REQUIRE(removed);
  CHECK_FALSE(removed->exists);
  // Not cached as it was: adding it back is seen at once again.
  add_source(s, "src", {"whsec_literal"});
  auto back = cache.lookup("src", 1'200);
  REQUIRE(back);
  CHECK(back->exists);
  CHECK(back->secrets == std::vector<std::string>{"whsec_literal"});
}

TEST_CASE("ingest::SourceKeyCache answers null, and caches nothing, when the store cannot be read", "[ingest]")
{
  unit::TempDir dir;
  auto not_a_store = write_file(dir, "garbage.db", std::string(4096, 'x'));
  SourceKeyCache cache(not_a_store, 100);
  CHECK(cache.lookup("src", 1'000) == nullptr);
  CHECK(cache.lookup("src", 1'000) == nullptr);
}
