#include "webhook_ref.hpp"

#include "centrali/store/deliveries.hpp"
#include "centrali/store/webhooks.hpp"

namespace centrali::cli {

Result<std::string> webhook_filter_id(store::Store& store, const std::string& given)
{
  auto w = store::find_webhook(store, given);
  if (w) return w->id;
  if (w.error().kind != ErrorKind::not_found) return std::unexpected(w.error());
  store::DeliveryFilter probe;
  probe.webhook_id = given;
  probe.limit = 1;
  auto logged = store::list_deliveries(store, probe);
  if (!logged) return std::unexpected(logged.error());
  if (logged->empty()) return std::unexpected(w.error());
  return given;
}

} // namespace centrali::cli
