#include "centrali/http/client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstdio>
#include <new>

#include "centrali/util/time.hpp"
#include "centrali/util/url.hpp"

namespace centrali::http {
namespace {

// Bodies past this are read and dropped so the connection stays reusable;
// past the hard cap the connection is abandoned instead.
constexpr std::size_t k_drain_cap = 8 << 20;
// A receiver's answer needs a few hundred bytes of head, and one that
// streams headers for ever must not grow us (cpp-httplib took hundreds of
// MB; libcurl keeps every header line too, for its headers API): the
// header callback stops the transfer past this.
constexpr std::size_t k_max_head = 64 << 10;
constexpr std::chrono::milliseconds k_max_connect{10'000};

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// What libcurl's callbacks see of one attempt.
struct Transfer {
  std::size_t max_body = 0;
  bool connected = false;  // connection (and TLS) up, request about to go
  std::size_t head_bytes = 0;
  bool head_too_large = false;
  bool in_head = false;
  HeaderList headers;
  std::string body;
  std::size_t body_seen = 0;
  bool body_truncated = false;
  bool abandoned = false;  // past k_drain_cap: the rest is not read
};

std::string where(const Url& url)
{
  return url.host + ":" + std::to_string(url.port);
}

// The URL as parsed (fragment dropped, target at least "/"), so libcurl
// connects where the error messages say.
std::string curl_url(const Url& url)
{
  bool ipv6 = url.host.find(':') != std::string::npos;
  return url.scheme + "://" + (ipv6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port) + url.target;
}

// Text from the request as it may appear in an error message: bytes
// outside printable ASCII become \xNN, so the message cannot carry them.
std::string shown(std::string_view text)
{
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    }
  }
  return out;
}

// Why `name: value` must not be written into a request, or empty. libcurl
// writes header lines as given, so a CR or LF in them would start another
// header (or another request) at the receiver.
std::string refusal(std::string_view name, std::string_view value)
{
  if (is_sendable_header(name, value)) return {};
  std::string why = is_header_token(name) ? "its value holds a line break or NUL" : "not a valid header name";
  return "refused to send header '" + shown(name) + "': " + why;
}

std::string first_refusal(const OutboundRequest& request)
{
  // The method too is written as given (a custom request line).
  if (!request.method.empty() && !is_header_token(request.method))
    return "refused to send method '" + shown(request.method) + "': not a valid HTTP method";
  for (const auto& h : request.headers)
    if (auto why = refusal(h.name, h.value); !why.empty()) return why;
  return refusal("Content-Type", request.content_type);
}

// The header lines to send. libcurl sets the framing itself (Host,
// Content-Length), so copies from the list are dropped; its own defaults
// that centrali has never sent (Accept, Expect: 100-continue) are turned
// off. Headers were checked by first_refusal.
Slist header_lines(const OutboundRequest& request)
{
  curl_slist* list = nullptr;
  auto add = [&list](const std::string& line) {
    auto* grown = curl_slist_append(list, line.c_str());
    if (!grown) {  // as a std::string would: never a request missing a header
      curl_slist_free_all(list);
      throw std::bad_alloc();
    }
    list = grown;
  };
  std::string content_type = request.content_type;
  bool has_accept = false;
  for (const auto& h : request.headers) {
    if (iequals(h.name, "Content-Type")) {
      if (content_type.empty()) content_type = h.value;
      continue;
    }
    if (is_framing_header(h.name)) continue;
    has_accept |= iequals(h.name, "Accept");
    // "Name:" would tell libcurl to remove its own header of that name;
    // "Name;" is how it sends one with an empty value.
    add(h.value.empty() ? h.name + ";" : h.name + ": " + h.value);
  }
  add("Content-Type: " + (content_type.empty() ? std::string("application/json") : content_type));
  if (!has_accept) add("Accept:");
  add("Expect:");
  return Slist(list);
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user)
{
  auto& t = *static_cast<Transfer*>(user);
  const std::size_t len = size * count;
  t.head_bytes += len;
  if (t.head_bytes > k_max_head) {
    t.head_too_large = true;
    return 0;  // libcurl stops the transfer
  }
  std::string_view line(data, len);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  // Each status line starts a head (a 1xx before the final one): keep the
  // final head's headers only. Lines after a head's blank line are
  // trailers, which are not the response's headers.
  if (line.starts_with("HTTP/")) {
    t.headers.clear();
    t.in_head = true;
  } else if (line.empty()) {
    t.in_head = false;
  } else if (t.in_head && (line.front() == ' ' || line.front() == '\t')) {
    if (!t.headers.empty()) t.headers.back().value += " " + std::string(trim_ows(line));  // obsolete folding
  } else if (auto colon = line.find(':'); t.in_head && colon != std::string_view::npos) {
    t.headers.push_back({std::string(trim_ows(line.substr(0, colon))), std::string(trim_ows(line.substr(colon + 1)))});
  }
  return len;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user)
{
  auto& t = *static_cast<Transfer*>(user);
  const std::size_t len = size * count;
  t.body_seen += len;
  if (t.body.size() < t.max_body) {
    auto take = std::min(len, t.max_body - t.body.size());
    t.body.append(data, take);
    if (take < len) t.body_truncated = true;
  } else if (len > 0) {
    t.body_truncated = true;
  }
  if (t.body_seen > k_drain_cap) {
    t.abandoned = true;
    return 0;
  }
  return len;
}

// Called once the connection (TLS included) is up, new or reused, just
// before the request is written: a timeout after it is the receiver's.
int on_connected(void* user, char*, char*, int, int)
{
  static_cast<Transfer*>(user)->connected = true;
  return CURL_PREREQFUNC_OK;
}

// Sets up `easy` for one attempt; false if libcurl refused an option (a
// libcurl too old for one of them).
bool configure(CURL* easy, const OutboundRequest& request, const std::string& url, const curl_slist* headers,
               Transfer& transfer, char* error_buffer)
{
  bool ok = true;
  auto set = [&](CURLoption option, auto value) { ok = ok && curl_easy_setopt(easy, option, value) == CURLE_OK; };
  set(CURLOPT_URL, url.c_str());
  // Many threads send at once: no SIGALRM for name lookups.
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  set(CURLOPT_FOLLOWLOCATION, 0L);
  // Never through a proxy named in the environment (http_proxy, ...):
  // deliveries go where the webhook says, mostly to this machine.
  set(CURLOPT_PROXY, "");
  set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  set(CURLOPT_PATH_AS_IS, 1L);  // the target as given, dot segments and all
  set(CURLOPT_TCP_NODELAY, 1L);
  set(CURLOPT_MAXCONNECTS, 1L);  // one handle is one connection
  // At least 1 ms: to libcurl, 0 means no limit at all.
  const auto timeout = std::max<long>(1, static_cast<long>(request.timeout.count()));
  set(CURLOPT_TIMEOUT_MS, timeout);
  set(CURLOPT_CONNECTTIMEOUT_MS, std::min<long>(timeout, k_max_connect.count()));
  set(CURLOPT_SSL_VERIFYPEER, request.insecure ? 0L : 1L);
  set(CURLOPT_SSL_VERIFYHOST, request.insecure ? 0L : 2L);
  set(CURLOPT_HTTPHEADER, headers);
  set(CURLOPT_ERRORBUFFER, error_buffer);
  set(CURLOPT_HEADERFUNCTION, on_header);
  set(CURLOPT_HEADERDATA, static_cast<void*>(&transfer));
  set(CURLOPT_WRITEFUNCTION, on_body);
  set(CURLOPT_WRITEDATA, static_cast<void*>(&transfer));
  set(CURLOPT_PREREQFUNCTION, on_connected);
  set(CURLOPT_PREREQDATA, static_cast<void*>(&transfer));

  const std::string& method = request.method.empty() ? "POST" : request.method;
  if (method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else if (method == "GET" && request.body.empty()) {
    set(CURLOPT_HTTPGET, 1L);
  } else {
    set(CURLOPT_POST, 1L);
    set(CURLOPT_POSTFIELDS, request.body.data());  // not copied: `request` outlives the transfer
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    if (method != "POST") set(CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  return ok;
}

std::string timed_out(const Url& url, std::chrono::milliseconds timeout)
{
  return "timed out after " + timeutil::format_duration(timeout) + " waiting for " + where(url);
}

std::string describe(CURLcode code, const Transfer& t, const Url& url, const std::string& target,
                     std::chrono::milliseconds timeout, const char* detail)
{
  if (t.head_too_large) return "response headers from " + where(url) + " over 64 KiB";
  switch (code) {
  case CURLE_COULDNT_RESOLVE_HOST: return "cannot resolve host " + url.host;
  case CURLE_COULDNT_CONNECT: return "connect to " + where(url) + ": connection refused or host unreachable";
  case CURLE_OPERATION_TIMEDOUT:
    if (!t.connected)
      return "connect to " + where(url) + ": timed out after " +
             timeutil::format_duration(std::min(timeout, k_max_connect));
    return timed_out(url, timeout);
  case CURLE_PEER_FAILED_VERIFICATION:
    return "TLS certificate of " + where(url) + " failed verification (use --insecure for self-signed local servers)";
  case CURLE_SSL_CONNECT_ERROR: return "TLS handshake with " + where(url) + " failed";
  case CURLE_SSL_CACERT_BADFILE: return "cannot load the system CA certificates";
  case CURLE_SEND_ERROR: return "connection to " + where(url) + " closed while sending the request";
  case CURLE_GOT_NOTHING:
  case CURLE_RECV_ERROR:
  case CURLE_PARTIAL_FILE: return "connection to " + where(url) + " closed before a complete response";
  // libcurl holds one header line in a buffer of 100 KB: a longer line
  // (one that never ends) fails with this before on_header sees it.
  case CURLE_OUT_OF_MEMORY:
    if (t.body_seen > 0) break;
    return "response headers from " + where(url) + " over 64 KiB";
  // The URL was checked to be http(s): an unsupported protocol is the
  // response's (no status line, which would be HTTP/0.9).
  case CURLE_UNSUPPORTED_PROTOCOL:
  case CURLE_WEIRD_SERVER_REPLY:
    return "invalid HTTP response from " + where(url) + (*detail ? std::string(": ") + detail : "");
  case CURLE_URL_MALFORMAT: return "invalid URL '" + shown(target) + "'" + (*detail ? std::string(": ") + detail : "");
  default: break;
  }
  return "request to " + where(url) + " failed: " + (*detail ? detail : curl_easy_strerror(code));
}

} // namespace

struct ClientPool::Conn {
  std::string key;  // origin, and whether certificates are checked
  Easy easy;        // its connection cache holds the keep-alive connection
};

ClientPool::ClientPool(std::size_t max_response_body) : m_max_body(max_response_body)
{
  // Once per process, before any thread makes a handle (curl_easy_init
  // would otherwise do it, racing other threads).
  static const CURLcode initialised = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)initialised;
}

ClientPool::~ClientPool() = default;

std::unique_ptr<ClientPool::Conn> ClientPool::borrow(const std::string& key)
{
  {
    std::lock_guard lock(m_mutex);
    auto& idle = m_idle[key];
    if (!idle.empty()) {
      auto conn = std::move(idle.back());
      idle.pop_back();
      return conn;
    }
  }
  auto conn = std::make_unique<Conn>();
  conn->key = key;
  conn->easy.reset(curl_easy_init());
  return conn;
}

void ClientPool::give_back(std::unique_ptr<Conn> conn)
{
  std::lock_guard lock(m_mutex);
  auto& idle = m_idle[conn->key];
  if (idle.size() < 64) idle.push_back(std::move(conn));
}

SendOutcome ClientPool::send(const OutboundRequest& request)
{
  SendOutcome outcome;
  auto started = timeutil::now_ms();
  auto url = parse_url(request.url);
  if (!url) {
    outcome.error = url.error().message;
    return outcome;
  }
  // Before any connection: nothing of a request that would be split is sent.
  if (auto why = first_refusal(request); !why.empty()) {
    outcome.error = std::move(why);
    return outcome;
  }
  auto conn = borrow(url->origin() + (request.insecure ? "#insecure" : ""));
  if (!conn->easy) {
    outcome.error = "cannot start an HTTP client (libcurl) for " + where(*url);
    return outcome;
  }
  CURL* easy = conn->easy.get();
  Transfer transfer;
  transfer.max_body = m_max_body;
  auto headers = header_lines(request);
  auto target = curl_url(*url);
  char detail[CURL_ERROR_SIZE] = "";
  bool configured = configure(easy, request, target, headers.get(), transfer, detail);
  CURLcode code = configured ? curl_easy_perform(easy) : CURLE_OK;
  outcome.duration_ms = timeutil::now_ms() - started;
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  // The handle outlives this attempt (pooled, or closing its connection
  // below): it must keep no pointer to the buffers and callbacks' data here.
  curl_easy_reset(easy);
  if (!configured) {
    outcome.error = "cannot set up the HTTP client (libcurl) for " + where(*url);
    return outcome;
  }
  // libcurl ends a transfer whose head the receiver cut short without an
  // error, as if the head were complete.
  if (code == CURLE_OK && transfer.in_head) code = CURLE_PARTIAL_FILE;
  const bool answered = code == CURLE_OK || transfer.abandoned;
  // One deadline for the whole attempt: libcurl's timer ends the transfer
  // at it, and a response that still completed after it is not a success.
  if (answered && outcome.duration_ms > request.timeout.count()) {
    outcome.error = timed_out(*url, request.timeout);
    return outcome;  // nor is its connection reused
  }
  if (answered) {
    OutboundResponse out;
    out.status = static_cast<int>(status);
    out.headers = std::move(transfer.headers);
    out.body = std::move(transfer.body);
    out.body_truncated = transfer.body_truncated;
    outcome.response = std::move(out);
    if (code == CURLE_OK) give_back(std::move(conn));
    return outcome;
  }
  outcome.error = describe(code, transfer, *url, target, request.timeout, detail);
  return outcome;  // a failed connection is not reused
}

} // namespace centrali::http
