// Open-loop load at a fixed rate, for latency: each connection sends on a
// fixed schedule and latency is measured from when the request was due, so
// a stalled server cannot hide its stalls (no coordinated omission).
//   bench_load URL PATH RATE SECONDS CONNECTIONS BODY_FILE [Header: value]...
// Prints: sent ok rate_achieved p50_ms p90_ms p99_ms max_ms
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

int main(int argc, char** argv)
{
  if (argc < 7) {
    std::fprintf(stderr, "usage: bench_load URL PATH RATE SECONDS CONNECTIONS BODY_FILE [Header: value]...\n");
    return 2;
  }
  std::string url = argv[1], path = argv[2];
  double rate = std::stod(argv[3]);
  double seconds = std::stod(argv[4]);
  int conns = std::stoi(argv[5]);
  std::ifstream in(argv[6], std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string body = ss.str();
  httplib::Headers headers;
  for (int i = 7; i < argc; ++i) {
    std::string h = argv[i];
    auto c = h.find(": ");
    if (c != std::string::npos) headers.emplace(h.substr(0, c), h.substr(c + 2));
  }
  using clock = std::chrono::steady_clock;
  auto start = clock::now() + std::chrono::milliseconds(200);
  auto interval = std::chrono::duration<double>(conns / rate);
  long per_conn = static_cast<long>(rate * seconds / conns);
  std::vector<std::vector<double>> lat(static_cast<std::size_t>(conns));
  std::atomic<long> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < conns; ++t)
    threads.emplace_back([&, t] {
      httplib::Client c(url);
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);
      auto offset = std::chrono::duration<double>(interval.count() * t / conns);
      auto& mine = lat[static_cast<std::size_t>(t)];
      mine.reserve(static_cast<std::size_t>(per_conn));
      for (long i = 0; i < per_conn; ++i) {
        auto due = start + std::chrono::duration_cast<clock::duration>(offset + interval * static_cast<double>(i));
        std::this_thread::sleep_until(due);
        auto h = headers;
        h.emplace("X-GitHub-Delivery", "load-" + std::to_string(t) + "-" + std::to_string(i) + "-" +
                                           std::to_string(start.time_since_epoch().count()));
        auto res = c.Post(path.c_str(), h, body, "application/json");
        if (res && res->status < 300) ++ok;
        mine.push_back(std::chrono::duration<double, std::milli>(clock::now() - due).count());
      }
    });
  for (auto& th : threads) th.join();
  double elapsed = std::chrono::duration<double>(clock::now() - start).count();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))]; };
  std::printf("%zu %ld %.0f %.2f %.2f %.2f %.2f\n", all.size(), ok.load(), all.size() / elapsed, pct(0.5), pct(0.9),
              pct(0.99), all.empty() ? 0.0 : all.back());
}
