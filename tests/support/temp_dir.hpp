#pragma once
// A temp folder for unit tests (header-only; binary tests use process.hpp).
#include <filesystem>
#include <random>
#include <stdexcept>

namespace unit {

class TempDir {
public:
  TempDir()
  {
    std::random_device rd;
    auto base = std::filesystem::temp_directory_path();
    for (int i = 0; i < 100; ++i) {
      auto candidate = base / ("centrali-unit-" + std::to_string(rd()));
      if (std::filesystem::create_directory(candidate)) {
        m_path = candidate;
        return;
      }
    }
    throw std::runtime_error("cannot create temp dir");
  }
  ~TempDir()
  {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(m_path, ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
      std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(m_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return m_path; }

private:
  std::filesystem::path m_path;
};

} // namespace unit
