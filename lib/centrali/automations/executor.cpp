#include "centrali/automations/executor.hpp"

// Placeholder while the executor is written (branch main, this session):
// claims nothing.
namespace centrali::automations {

struct Executor::State {};

Executor::Executor(store::GroupCommitter&, std::filesystem::path, ExecutorOptions, std::function<void(const std::string&)>)
    : m_state(std::make_unique<State>())
{
}
Executor::~Executor() = default;
void Executor::start() {}
void Executor::stop() {}
void Executor::wake() {}
Result<int> Executor::drain() { return 0; }

} // namespace centrali::automations
