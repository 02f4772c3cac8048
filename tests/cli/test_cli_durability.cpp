// Durability you can see: a 202 is never sent before the event's frames in
// the write-ahead log were fsynced. `centrali listen` runs under an
// LD_PRELOAD shim (tests/durability/fsync_order_shim.cpp) that logs, in
// order, each WAL write carrying an event's marker, each WAL sync and each
// 202 sent. A power cut keeps exactly what was synced, so an event whose
// last WAL frame was written but not synced when its 202 left would be lost
// while its sender believes it delivered.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "listener.hpp"
#include "process.hpp"

using namespace testing;

namespace {

const std::string k_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

std::string marker(int n)
{
  char text[16];
  std::snprintf(text, sizeof text, "durab-%06d", n);
  return text;
}

std::vector<std::string> lines_of(const std::string& path)
{
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

} // namespace

TEST_CASE("ingest sends no 202 before the event's WAL frames are fsynced", "[sqlite][cli][ingest][durability]")
{
  TempDir dir;
  auto store = dir.store();
  auto log = dir.str("fsync.log");
  auto added = centrali({"--store", store, "sources", "add", "std", "--provider", "standard", "--secret", k_secret});
  REQUIRE(added.exit_code == 0);

  RunOptions options;
  options.env["LD_PRELOAD"] = CENTRALI_FSYNC_SHIM;
  options.env["CENTRALI_FSYNC_LOG"] = log;
  // Under AddressSanitizer the shim is loaded ahead of the ASan runtime.
  options.env["ASAN_OPTIONS"] = "verify_asan_link_order=0:detect_leaks=0";
  constexpr int events = 25;
  {
    Listen listener(store, {}, options);
    // One request at a time, so the n-th 202 in the log answers event n.
    for (int n = 0; n < events; ++n) {
      std::string body = R"({"type":"durability.checked","n":")" + marker(n) + R"("})";
      auto sent = post(listener.url(), "/ingest/std", body, sign("standard", k_secret, body));
      INFO(sent.body);
      REQUIRE(sent.status == 202);
    }
  }

  // Replay the log: for the n-th 202, the last WAL write carrying event n's
  // marker must have been followed by a WAL sync.
  std::map<std::string, bool> synced_since_last_write;  // marker -> synced after its last write
  int acks = 0;
  int unsynced = 0;
  for (const auto& line : lines_of(log)) {
    if (line.rfind("W ", 0) == 0) {
      synced_since_last_write[line.substr(2)] = false;
    } else if (line == "S") {
      for (auto& [_, synced] : synced_since_last_write) synced = true;
    } else if (line == "A") {
      auto it = synced_since_last_write.find(marker(acks));
      INFO("202 number " << acks << " for " << marker(acks));
      // The shim saw the event reach the WAL before its answer...
      REQUIRE(it != synced_since_last_write.end());
      // ...and the frames were synced before the 202.
      if (!it->second) ++unsynced;
      ++acks;
    }
  }
  CHECK(acks == events);
  CHECK(unsynced == 0);
}
