#pragma once
// A delivery row as the store and delivery unit tests add them.
#include <cstdint>
#include <string>

#include "centrali/store/deliveries.hpp"

namespace testing {

// A pending delivery `id` of event evt_<id>, of `kind`, due at `due_ms`,
// to a port nobody listens on.
inline centrali::store::Delivery pending_delivery(const std::string& id, std::int64_t due_ms = 1,
                                                  const std::string& kind = "forward")
{
  centrali::store::Delivery d;
  d.id = id;
  d.kind = kind;
  d.event_id = "evt_" + id;
  d.event_type = "t";
  d.url = "http://127.0.0.1:9/app";
  d.status = "pending";
  d.next_attempt_ms = due_ms;
  d.created_ms = d.updated_ms = 1;
  return d;
}

} // namespace testing
