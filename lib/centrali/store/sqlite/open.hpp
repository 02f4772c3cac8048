#pragma once
// Opening a SQLite store file: created private when absent, WAL mode,
// foreign keys on, migrated.
#include <filesystem>
#include <memory>

#include "centrali/store/store.hpp"

namespace centrali::store::sqlite {

Result<std::unique_ptr<Connection>> open_file(const std::filesystem::path& path, OpenOptions options);

} // namespace centrali::store::sqlite
