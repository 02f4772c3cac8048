#include "centrali/store/automations.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

namespace centrali::store {

// Every query over open runs repeats the partial index's own condition
// (`status IN ('running','waiting')`): only then may SQLite use
// automation_runs_open, ordered by due time.

Result<std::optional<std::int64_t>> next_automation_due_ms(Store& store)
{
  return guarded("read automation run queue", [&]() -> Result<std::optional<std::int64_t>> {
    auto& st = store.statement("SELECT due_ms FROM automation_runs WHERE status IN ('running','waiting') "
                               "ORDER BY due_ms LIMIT 1");
    std::optional<std::int64_t> due;
    if (st.executeStep()) due = st.getColumn(0).getInt64();
    st.reset();
    return due;
  });
}

Result<bool> has_due_automation_runs(Store& store, std::int64_t now_ms)
{
  return guarded("read automation run queue", [&]() -> Result<bool> {
    auto& st = store.statement("SELECT 1 FROM automation_runs WHERE status IN ('running','waiting') "
                               "AND due_ms <= ? LIMIT 1");
    st.bind(1, static_cast<int64_t>(now_ms));
    bool any = st.executeStep();
    st.reset();
    return any;
  });
}

} // namespace centrali::store
