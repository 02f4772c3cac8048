#pragma once
// The signature check a source makes of a request, in one place for the two
// times it runs: live in the listener, without diagnosis (a stranger's
// forged request must cost no more than a real one), and later for `events
// show` on the stored request, with diagnosis (which re-signs the body in
// several variants and can cost many times the check itself).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "centrali/ingest/providers.hpp"
#include "centrali/ingest/source_keys.hpp"
#include "centrali/signatures/signatures.hpp"
#include "centrali/store/events.hpp"
#include "centrali/util/error.hpp"

namespace centrali::ingest {

// Checks a request to a source whose provider signs (not `none`). `target`
// is the request's path and query as sent (Twilio signs the URL).
sig::Verdict verify_request(const SourceKeys& source, const HeaderList& headers, std::string_view body,
                            std::string_view target, std::int64_t now_s, sig::Diagnose diagnose);

// Why a stored request failed its signature check: the check re-run with
// diagnosis as the listener ran it when the request arrived, with the
// source's current secrets. Empty unless the event was refused with 401
// and its source still exists; a hint is given only when a variant matches.
Result<std::vector<std::string>> diagnose_rejected(store::Store& store, const store::Event& event);

} // namespace centrali::ingest
