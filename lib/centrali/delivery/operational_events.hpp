#pragma once
// Operational events: what happened to deliveries and webhooks, stored as
// ordinary local events so triggers and webhooks can subscribe to them
// (`--events 'centrali.*'`): page someone when a webhook is turned off.
// Only a glob that names them takes them ('*' does not), and they are
// stored only while something subscribes.
// Made inside the transaction that records the change, so each is stored
// exactly when its change is.
#include <cstdint>
#include <string>
#include <string_view>

#include "centrali/store/deliveries.hpp"
#include "centrali/store/store.hpp"
#include "centrali/util/error.hpp"

namespace centrali::delivery {

inline constexpr std::string_view k_webhook_disabled = "centrali.webhook.disabled";
inline constexpr std::string_view k_delivery_exhausted = "centrali.delivery.exhausted";
inline constexpr std::string_view k_webhook_recovered = "centrali.webhook.recovered";

// A delivery of an operational event makes none itself: a webhook
// subscribed to `centrali.*` that fails must not feed itself a new event
// about each failure.
bool is_operational(std::string_view event_type);

// {"webhook_id", "name", "url", "reason", "disabled_at"}
Result<void> emit_webhook_disabled(store::Store& store, const std::string& webhook_id, const std::string& reason,
                                   std::int64_t now_ms);
// {"delivery_id", "kind", "webhook_id", "event_id", "event_type", "url",
//  "attempts", "last_status", "last_error", "exhausted_at"}
Result<void> emit_delivery_exhausted(store::Store& store, const store::Delivery& delivery,
                                     const store::DeliveryUpdate& update, int attempts, std::int64_t now_ms);
// {"webhook_id", "name", "url", "failing_since", "recovered_at"}: a success
// ended a failing streak.
Result<void> emit_webhook_recovered(store::Store& store, const std::string& webhook_id, std::int64_t failing_since_ms,
                                    std::int64_t now_ms);

} // namespace centrali::delivery
