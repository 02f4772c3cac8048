#pragma once
// Sizes as people read them: 512 B, 1.5 KiB, 3.2 MiB.
#include <cstdint>
#include <cstdio>
#include <string>

namespace centrali {

inline std::string human_bytes(std::int64_t n)
{
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(n));
  else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

} // namespace centrali
