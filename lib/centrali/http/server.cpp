#include "centrali/http/server.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "centrali/http/handler_pool.hpp"
#include "centrali/http/host_policy.hpp"
#include "centrali/http/request_parser.hpp"

namespace centrali::http {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint64_t k_listen_key = 0;
constexpr std::uint64_t k_wake_key = 1;
// Bytes of pipelined requests read ahead while one is being handled; past
// this the connection stops reading until the response is out.
constexpr std::size_t k_max_read_ahead = 256 * 1024;
// After a final `Connection: close` response, keep reading (and dropping)
// briefly, so an unread request body does not turn our FIN into an RST
// that destroys the response before the client reads it.
constexpr auto k_linger = std::chrono::seconds(2);
// ... but not for ever: a client that keeps sending after its answer (a
// flood refused 431 or 413) is cut off, as nginx's lingering_time does.
constexpr auto k_max_linger = std::chrono::seconds(30);
// Unsent response bytes past which a connection stops parsing and reading
// requests until its client reads (as nginx and Node do): a client that
// pipelines requests and never reads the answers cannot pile them up here.
constexpr std::size_t k_max_unsent = 64 * 1024;

const char* reason_phrase(int status)
{
  switch (status) {
  case 100: return "Continue";
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 204: return "No Content";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 304: return "Not Modified";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 410: return "Gone";
  case 413: return "Content Too Large";
  case 415: return "Unsupported Media Type";
  case 417: return "Expectation Failed";
  case 422: return "Unprocessable Content";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  case 505: return "HTTP Version Not Supported";
  case 508: return "Loop Detected";
  default: return status < 300 ? "OK" : status < 400 ? "Redirect" : status < 500 ? "Client Error" : "Server Error";
  }
}

std::string format_address(const sockaddr_storage& addr)
{
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(addr).sin_addr, text, sizeof text);
  else if (addr.ss_family == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr, text, sizeof text);
  return text;
}

struct Route {
  std::string prefix;
  Server::Handler plain;
  Server::AsyncHandler async;
};

} // namespace

std::string error_body(std::string_view code, std::string_view reason)
{
  nlohmann::json j = {{"error", code}};
  if (!reason.empty()) j["reason"] = reason;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

struct Connection {
  enum class State { head, body, handling, lingering };

  int fd = -1;
  std::uint64_t key = 0;
  std::string remote;
  std::string in;               // received bytes; the unconsumed ones start at `in_used`
  std::size_t in_used = 0;
  std::string out;              // response bytes still to write, from `out_sent`
  std::size_t out_sent = 0;
  State state = State::head;
  std::uint64_t request_seq = 0;  // which request a reply answers
  RequestHeadParser parser;     // the next head, parsed as its bytes arrive
  RequestHead head;
  Request request;              // its views point into `head` and `remote`
  ChunkedDecoder chunked;
  std::uint64_t body_remaining = 0;
  bool close_after = false;     // this response is the connection's last
  bool peer_closed = false;     // the client sent FIN (or the socket failed)
  bool read_paused = false;     // stopped reading: read-ahead full, or responses unread
  bool shut_down = false;       // our FIN was sent
  bool advancing = false;       // inside advance(): a response must not recurse into it

  bool alive() const { return fd >= 0; }
  Clock::time_point last_activity;
  Clock::time_point started;    // when the request's head was complete
  Clock::time_point head_started;     // when the first byte of the head being parsed arrived
  Clock::time_point lingering_since;  // when the last response was written

  std::size_t unsent() const { return out.size() - out_sent; }
  // Memory the connection holds for its client.
  std::size_t held_bytes() const { return in.size() + request.body.size() + out.size(); }

  std::string_view pending_input() const { return std::string_view(in).substr(in_used); }
  void consume(std::size_t n)
  {
    in_used += n;
    if (in_used == in.size()) {
      in.clear();
      in_used = 0;
    } else if (in_used > 64 * 1024 && in_used * 2 > in.size()) {
      in.erase(0, in_used);
      in_used = 0;
    }
  }
};

struct Completion {
  std::uint64_t key;
  std::uint64_t seq;
  Response response;
};

// One loop's share of ServerStats: written by that loop only, read by
// stats() from any thread.
struct LoopCounters {
  std::atomic<std::uint64_t> bytes_received{0};
  std::atomic<std::uint64_t> head_bytes_examined{0};
  std::atomic<std::size_t> peak_connection_bytes{0};
  std::atomic<std::uint64_t> paused_for_unsent{0};
  std::atomic<std::uint64_t> heads_timed_out{0};

  // A plain load and store: only the owning loop writes, so no locked
  // instruction is needed on the hot path.
  static void add(std::atomic<std::uint64_t>& counter, std::uint64_t n)
  {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void note_held(std::size_t bytes)
  {
    if (bytes > peak_connection_bytes.load(std::memory_order_relaxed))
      peak_connection_bytes.store(bytes, std::memory_order_relaxed);
  }
  void add_to(ServerStats& stats) const
  {
    stats.bytes_received += bytes_received.load(std::memory_order_relaxed);
    stats.head_bytes_examined += head_bytes_examined.load(std::memory_order_relaxed);
    stats.peak_connection_bytes = std::max(stats.peak_connection_bytes, peak_connection_bytes.load(std::memory_order_relaxed));
    stats.paused_for_unsent += paused_for_unsent.load(std::memory_order_relaxed);
    stats.heads_timed_out += heads_timed_out.load(std::memory_order_relaxed);
  }
};

} // namespace

struct Server::Impl {
  class Loop;

  ServerOptions options;
  HostPolicy host_policy;
  std::vector<Route> routes;  // longest prefix first
  AccessLog access_log;
  int listen_fd = -1;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> next_loop{0};  // new connections go round-robin
  std::mutex loops_mutex;
  std::vector<std::unique_ptr<Loop>> loops;
  ServerStats retired_stats;  // of loops that have finished; under loops_mutex
  std::unique_ptr<HandlerPool> pool;

  const Route* find(std::string_view path) const
  {
    for (const auto& r : routes)
      if (path.substr(0, r.prefix.size()) == r.prefix) return &r;
    return nullptr;
  }
};

class Server::Impl::Loop {
public:
  explicit Loop(Server::Impl& server) : m_server(server)
  {
    m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
    m_wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = k_wake_key;
    ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wake_fd, &ev);
    watch_listener();
  }

  ~Loop()
  {
    for (auto& [key, conn] : m_conns)
      if (conn->alive()) ::close(conn->fd);
    for (auto& [fd, remote] : m_adopted) ::close(fd);
    ::close(m_wake_fd);
    ::close(m_epoll);
  }

  // Hands a finished response to the loop; any thread.
  void post(Completion completion)
  {
    bool was_empty;
    {
      std::lock_guard lock(m_mutex);
      was_empty = m_completions.empty() && m_adopted.empty();
      m_completions.push_back(std::move(completion));
    }
    // One wake-up per burst: a group commit answers many requests at once.
    if (was_empty) wake();
  }

  // Takes over a connection another loop accepted; any thread.
  void adopt(int fd, std::string remote)
  {
    bool was_empty;
    {
      std::lock_guard lock(m_mutex);
      was_empty = m_completions.empty() && m_adopted.empty();
      m_adopted.emplace_back(fd, std::move(remote));
    }
    if (was_empty) wake();
  }

  void wake()
  {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(m_wake_fd, &one, sizeof one);
  }

  void run()
  {
    std::vector<epoll_event> events(256);
    auto next_sweep = Clock::now() + std::chrono::seconds(1);
    bool listening = true;
    while (true) {
      bool stopping = m_server.stopping.load();
      if (stopping && listening) {
        ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, m_server.listen_fd, nullptr);
        listening = false;
        begin_shutdown();
      }
      if (stopping && m_conns.empty()) return;
      int n = ::epoll_wait(m_epoll, events.data(), static_cast<int>(events.size()), m_accept_paused_until ? 100 : 250);
      m_now = Clock::now();
      for (int i = 0; i < n; ++i) {
        auto key = events[static_cast<std::size_t>(i)].data.u64;
        auto what = events[static_cast<std::size_t>(i)].events;
        if (key == k_listen_key) {
          if (listening) accept_all();
        } else if (key == k_wake_key) {
          std::uint64_t count;
          [[maybe_unused]] auto r = ::read(m_wake_fd, &count, sizeof count);
        } else {
          on_event(key, what);
        }
      }
      drain_completions();
      if (m_now >= next_sweep) {
        sweep();
        next_sweep = m_now + std::chrono::seconds(1);
      }
      for (auto key : m_dead) m_conns.erase(key);
      m_dead.clear();
      if (m_accept_paused_until && m_now >= *m_accept_paused_until && listening) {
        m_accept_paused_until.reset();
        watch_listener();
      }
    }
  }

  const LoopCounters& counters() const { return m_counters; }

  void watch_listener()
  {
    // Every loop waits on the one listening socket; EPOLLEXCLUSIVE wakes
    // one of them per new connection instead of all.
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.u64 = k_listen_key;
    ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_server.listen_fd, &ev);
  }

private:
  Connection* find(std::uint64_t key)
  {
    auto it = m_conns.find(key);
    return it == m_conns.end() || !it->second->alive() ? nullptr : it->second.get();
  }

  void accept_all()
  {
    while (true) {
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      int fd = ::accept4(m_server.listen_fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors: the listening socket would stay readable and
          // spin this loop. Stop watching it for a moment; the backlog waits.
          ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, m_server.listen_fd, nullptr);
          m_accept_paused_until = m_now + std::chrono::milliseconds(100);
        }
        return;
      }
      // Whichever loop wakes first accepts a whole burst; spreading the
      // connections keeps every loop (and core) busy.
      auto& loops = m_server.loops;
      auto& owner = *loops[m_server.next_loop.fetch_add(1) % loops.size()];
      if (&owner != this) {
        owner.adopt(fd, format_address(addr));
        continue;
      }
      add_connection(fd, format_address(addr));
    }
  }

  void add_connection(int fd, std::string remote)
  {
    if (m_conns.size() >= m_server.options.max_connections) {
      ::close(fd);
      return;
    }
    // Without TCP_NODELAY each response waits ~40 ms for a delayed ACK.
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto conn = std::make_unique<Connection>();
    conn->fd = fd;
    conn->key = m_next_key++;
    conn->remote = std::move(remote);
    conn->last_activity = m_now;
    conn->parser = RequestHeadParser({m_server.options.max_head_bytes, 1000});
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = conn->key;
    if (::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev) != 0) {
      ::close(fd);
      return;
    }
    auto* c = conn.get();
    m_conns.emplace(c->key, std::move(conn));
    // The request often arrives with the connection.
    on_readable(*c);
  }

  void on_event(std::uint64_t key, std::uint32_t what)
  {
    Connection* conn = find(key);
    if (!conn) return;
    if (what & EPOLLOUT) {
      if (!flush(*conn)) return;
      // The client read its responses: go on with the requests it sent.
      if (conn->read_paused && !must_pause_reading(*conn)) resume(*conn);
    }
    if (!conn->alive()) return;
    if (what & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(*conn);
  }

  // Whether to leave the client's bytes in the socket for now: while a
  // request is handled, past the read-ahead (or at all, when the connection
  // closes after it); before parsing the next one, while the client leaves
  // more than k_max_unsent of answers unread. TCP then holds the client
  // back, so nothing piles up here.
  static bool must_pause_reading(const Connection& conn)
  {
    switch (conn.state) {
    case Connection::State::handling: return conn.close_after || conn.pending_input().size() >= k_max_read_ahead;
    case Connection::State::head: return conn.unsent() > k_max_unsent;
    case Connection::State::body:       // bounded by max_body; the client may be sending it before reading
    case Connection::State::lingering:  // read only to be dropped
      return false;
    }
    return false;
  }

  void pause_reading(Connection& conn)
  {
    if (!conn.read_paused && conn.state == Connection::State::head) LoopCounters::add(m_counters.paused_for_unsent, 1);
    conn.read_paused = true;
  }

  // Goes on with a connection that waited (for a handler, or for its client
  // to read): parses the requests read ahead, then reads again.
  void resume(Connection& conn)
  {
    if (conn.advancing) return;  // advance() goes on with the next request itself
    if (!advance(conn)) return;
    if (conn.read_paused && !must_pause_reading(conn)) {
      conn.read_paused = false;
      on_readable(conn);  // edge-triggered: bytes left in the socket bring no new event
      return;
    }
    if (conn.peer_closed && conn.state == Connection::State::head && conn.unsent() == 0) close(conn);
  }

  // Reads what the socket has, making progress on the requests after every
  // read, so a fast client meets each limit (head, body, read-ahead, unsent
  // responses) as soon as it crosses it rather than after its flood.
  void on_readable(Connection& conn)
  {
    char* buf = m_scratch;
    while (conn.alive()) {
      if (must_pause_reading(conn)) {
        pause_reading(conn);
        return;
      }
      ssize_t n = ::recv(conn.fd, buf, sizeof m_scratch, 0);
      if (n > 0) {
        const auto got = static_cast<std::size_t>(n);
        conn.last_activity = m_now;
        LoopCounters::add(m_counters.bytes_received, got);
        if (conn.state != Connection::State::lingering) {
          conn.in.append(buf, got);
          m_counters.note_held(conn.held_bytes());
          if (!advance(conn)) return;
          m_counters.note_held(conn.held_bytes());
        }
        if (got < sizeof m_scratch) break;  // drained for now
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      conn.peer_closed = true;  // EOF or a socket error
      break;
    }
    if (!conn.alive()) return;
    if (conn.state == Connection::State::lingering) {
      if (conn.peer_closed) close(conn);
      return;
    }
    if (conn.peer_closed && conn.state != Connection::State::handling && conn.unsent() == 0) close(conn);
  }

  // Parses and dispatches as far as the buffered bytes allow. False when
  // the connection was closed.
  bool advance(Connection& conn)
  {
    conn.advancing = true;
    bool alive = advance_requests(conn);
    conn.advancing = false;
    return alive;
  }

  bool advance_requests(Connection& conn)
  {
    const auto& options = m_server.options;
    while (conn.alive()) {
      if (conn.state == Connection::State::head) {
        auto input = conn.pending_input();
        if (input.empty()) return true;
        if (conn.unsent() > k_max_unsent) {
          pause_reading(conn);  // on_event resumes once the client has read
          return true;
        }
        RequestHeadParser& parser = conn.parser;
        if (!parser.in_progress()) conn.head_started = m_now;
        const auto examined = parser.bytes_examined();
        const auto status = parser.feed(input);
        LoopCounters::add(m_counters.head_bytes_examined, parser.bytes_examined() - examined);
        if (status == HeadStatus::incomplete) return true;
        if (status == HeadStatus::error) {
          refuse_head(conn, parser.error().status, parser.error().code, parser.error().reason);
          return conn.alive();
        }
        conn.consume(parser.head().head_bytes);
        begin_request(conn, std::move(parser.head()));
        parser.reset();
        if (!conn.alive()) return false;
        continue;  // a response given at once leaves the connection ready for the next head
      }
      if (conn.state == Connection::State::body) {
        auto input = conn.pending_input();
        if (input.empty()) return true;
        Request& req = conn.request;
        if (conn.head.chunked) {
          auto before = input.size();
          auto state = conn.chunked.feed(input, req.body, options.max_body);
          conn.consume(before - input.size());
          if (state == ChunkedDecoder::State::error) {
            dispatch_error(conn, 400, "bad_request", "malformed chunked body");
            return conn.alive();
          }
          if (req.body.size() > options.max_body) {
            too_large(conn);
            return conn.alive();
          }
          if (state == ChunkedDecoder::State::more) return true;
          dispatch(conn);
          if (!conn.alive()) return false;
          continue;
        }
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(conn.body_remaining, input.size()));
        req.body.append(input.data(), n);
        conn.consume(n);
        conn.body_remaining -= n;
        if (conn.body_remaining > 0) return true;
        dispatch(conn);
        if (!conn.alive()) return false;
        continue;
      }
      return true;  // handling or lingering: nothing to parse
    }
    return false;
  }

  void begin_request(Connection& conn, RequestHead head)
  {
    conn.head = std::move(head);
    conn.chunked = ChunkedDecoder{};
    conn.started = m_now;
    Request& req = conn.request;
    req = Request{};
    req.method = conn.head.method;
    req.path = conn.head.path;
    req.target = conn.head.target;
    req.host = conn.head.host;
    req.remote_addr = conn.remote;
    req.header_bytes = conn.head.head_bytes;
    req.headers = std::move(conn.head.headers);
    if (!conn.head.keep_alive) conn.close_after = true;
    if (!conn.head.chunked && conn.head.content_length > m_server.options.max_body) {
      too_large(conn);
      return;
    }
    if (!conn.head.chunked && conn.head.content_length == 0) {
      dispatch(conn);
      return;
    }
    conn.body_remaining = conn.head.content_length;
    if (!conn.head.chunked) req.body.reserve(static_cast<std::size_t>(conn.head.content_length));
    conn.state = Connection::State::body;
    if (conn.head.expect_continue) {
      conn.out += "HTTP/1.1 100 Continue\r\n\r\n";
      flush(conn);
    }
  }

  // The handler still hears of an oversized request (ingestion records it);
  // the rest of the body is never read, so this is the connection's last.
  void too_large(Connection& conn)
  {
    conn.request.body.clear();
    conn.request.body.shrink_to_fit();
    conn.request.body_too_large = true;
    conn.close_after = true;
    dispatch(conn);
  }

  // A head that cannot be served: answered, and the connection closes, as
  // where the next request would start is unknown.
  void refuse_head(Connection& conn, int status, std::string_view code, std::string reason)
  {
    conn.started = m_now;
    conn.request = Request{};
    conn.request.remote_addr = conn.remote;
    dispatch_error(conn, status, code, std::move(reason));
  }

  void dispatch_error(Connection& conn, int status, std::string_view code, std::string reason)
  {
    conn.close_after = true;
    conn.state = Connection::State::handling;
    ++conn.request_seq;
    Response res;
    res.status = status;
    res.body = error_body(code, reason);
    res.note = std::move(reason);
    respond(conn, std::move(res));
  }

  // A 403 for a request whose Host or Origin names a site this server does
  // not answer for (DNS rebinding, cross-site requests from a web page).
  std::optional<Response> foreign_name(const Request& req) const
  {
    const auto& policy = m_server.host_policy;
    Response res;
    res.status = 403;
    if (!req.host.empty() && !policy.allows_host(req.host)) {
      res.body = error_body("host_not_allowed", "this server does not answer to the name '" + host_name(req.host) + "'");
      res.note = "Host '" + std::string(req.host) + "' is not allowed (see --allow-host)";
      return res;
    }
    const auto* origin = find_header(req.headers, "Origin");
    if (origin && !policy.allows_origin(*origin)) {
      res.body = error_body("origin_not_allowed", "requests from web pages of other sites are not served");
      res.note = "Origin '" + *origin + "' is not allowed (see --allow-host)";
      return res;
    }
    return std::nullopt;
  }

  void dispatch(Connection& conn)
  {
    conn.state = Connection::State::handling;
    auto seq = ++conn.request_seq;
    if (auto refusal = foreign_name(conn.request)) {
      respond(conn, std::move(*refusal));
      return;
    }
    const Route* route = m_server.find(conn.request.path);
    if (!route) {
      Response res;
      res.status = 404;
      res.body = error_body("not_found", "no route for this path");
      respond(conn, std::move(res));
      return;
    }
    auto key = conn.key;
    Request* req = &conn.request;  // stays put until the reply: a handling connection is never freed
    if (route->async) {
      auto reply = [this, key, seq](Response res) { post({key, seq, std::move(res)}); };
      try {
        route->async(*req, std::move(reply));
      } catch (...) {
        // Never let an exception's text reach the client.
        Response res;
        res.status = 500;
        res.body = error_body("internal_error");
        post({key, seq, std::move(res)});
      }
      return;
    }
    const Server::Handler* handler = &route->plain;
    m_server.pool->submit([this, key, seq, req, handler] {
      Response res;
      try {
        (*handler)(*req, res);
      } catch (...) {
        res = Response{};
        res.status = 500;
        res.body = error_body("internal_error");
      }
      post({key, seq, std::move(res)});
    });
  }

  void drain_completions()
  {
    std::vector<std::pair<int, std::string>> adopted;
    {
      std::lock_guard lock(m_mutex);
      if (m_completions.empty() && m_adopted.empty()) return;
      m_draining.swap(m_completions);
      adopted.swap(m_adopted);
    }
    for (auto& [fd, remote] : adopted) {
      if (m_server.stopping.load()) ::close(fd);
      else add_connection(fd, std::move(remote));
    }
    for (auto& c : m_draining) {
      Connection* conn = find(c.key);
      // A late or repeated reply (the request already answered) is dropped.
      if (!conn || conn->state != Connection::State::handling || conn->request_seq != c.seq) continue;
      respond(*conn, std::move(c.response));
    }
    m_draining.clear();
  }

  // Writes the response to the handled request, then moves on to the next
  // pipelined request, or closes.
  void respond(Connection& conn, Response res)
  {
    const bool head_only = conn.request.method == "HEAD";
    const bool no_body = res.status == 204 || res.status == 304 || res.status < 200;
    for (const auto& h : res.headers)
      if (iequals(h.name, "Connection") && iequals(h.value, "close")) conn.close_after = true;
    if (m_server.stopping.load() || conn.peer_closed) conn.close_after = true;
    std::string& out = conn.out;
    if (conn.out_sent == out.size()) {
      out.clear();
      conn.out_sent = 0;
    }
    out.reserve(out.size() + 160 + res.body.size());
    out += "HTTP/1.1 ";
    out += std::to_string(res.status);
    out += ' ';
    out += reason_phrase(res.status);
    out += "\r\n";
    if (!no_body) {
      if (!res.body.empty() || !res.content_type.empty()) {
        out += "Content-Type: ";
        out += res.content_type.empty() ? "text/plain" : res.content_type;
        out += "\r\n";
      }
      out += "Content-Length: ";
      out += std::to_string(res.body.size());
      out += "\r\n";
    }
    for (const auto& h : res.headers) {
      if (iequals(h.name, "Connection") || iequals(h.name, "Content-Length") ||
          iequals(h.name, "Transfer-Encoding") ||
          // A function's response envelope chooses header names and values:
          // one that could split the response is not written.
          !is_sendable_header(h.name, h.value))
        continue;
      out += h.name;
      out += ": ";
      out += h.value;
      out += "\r\n";
    }
    if (conn.close_after) out += "Connection: close\r\n";
    out += "\r\n";
    if (!no_body && !head_only) out += res.body;
    m_counters.note_held(conn.held_bytes());

    if (m_server.access_log) {
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - conn.started).count();
      m_server.access_log(conn.request, res, ms);
    }
    conn.request = Request{};
    if (conn.close_after) {
      conn.state = Connection::State::lingering;
      conn.last_activity = m_now;
      conn.lingering_since = m_now;
      if (!flush(conn)) return;
      if (conn.read_paused) {
        // Drop what the client sent meanwhile: unread bytes at close would
        // turn our FIN into an RST that can destroy this response.
        conn.read_paused = false;
        on_readable(conn);
      }
      return;
    }
    conn.state = Connection::State::head;
    if (!flush(conn)) return;
    resume(conn);
  }

  // Writes pending output. False when the connection was closed.
  bool flush(Connection& conn)
  {
    if (!conn.alive()) return false;
    while (conn.out_sent < conn.out.size()) {
      ssize_t n = ::send(conn.fd, conn.out.data() + conn.out_sent, conn.out.size() - conn.out_sent, MSG_NOSIGNAL);
      if (n > 0) {
        conn.out_sent += static_cast<std::size_t>(n);
        conn.last_activity = m_now;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;  // EPOLLOUT resumes
      // The client is gone. A handler still working on its request keeps
      // the connection (and the request it reads) alive until it replies.
      conn.peer_closed = true;
      conn.out.clear();
      conn.out_sent = 0;
      if (conn.state == Connection::State::handling) return true;
      close(conn);
      return false;
    }
    if (conn.state == Connection::State::lingering && !conn.shut_down) {
      ::shutdown(conn.fd, SHUT_WR);
      conn.shut_down = true;
      if (conn.peer_closed) {
        close(conn);
        return false;
      }
    }
    return true;
  }

  // Closes now; the object is freed after this loop iteration, so callers
  // up the stack may still look at it (and see !alive()).
  void close(Connection& conn)
  {
    if (!conn.alive()) return;
    ::close(conn.fd);  // also leaves the epoll set
    conn.fd = -1;
    m_dead.push_back(conn.key);
  }

  void begin_shutdown()
  {
    // Idle keep-alive connections go now; the others after their response.
    std::vector<Connection*> idle;
    for (auto& [key, conn] : m_conns) {
      conn->close_after = true;
      if (conn->state == Connection::State::head && conn->pending_input().empty() && conn->out_sent >= conn->out.size())
        idle.push_back(conn.get());
    }
    for (auto* conn : idle) close(*conn);
  }

  void sweep()
  {
    const auto& options = m_server.options;
    std::vector<Connection*> expired;
    std::vector<Connection*> late_heads;
    for (auto& [key, conn] : m_conns) {
      if (!conn->alive()) continue;
      auto quiet = m_now - conn->last_activity;
      switch (conn->state) {
      case Connection::State::handling:
        break;  // the handler has its own timeout
      case Connection::State::lingering:
        if (quiet > k_linger || m_now - conn->lingering_since > k_max_linger) expired.push_back(conn.get());
        break;
      case Connection::State::head:
        // Each byte resets the idle timer; this bounds the whole head.
        if (conn->parser.in_progress() && m_now - conn->head_started > std::chrono::seconds(options.head_timeout_s)) {
          late_heads.push_back(conn.get());
          break;
        }
        if (conn->pending_input().empty() && conn->unsent() == 0) {
          if (quiet > std::chrono::seconds(options.keep_alive_timeout_s)) expired.push_back(conn.get());
          break;
        }
        [[fallthrough]];
      case Connection::State::body:
        if (quiet > std::chrono::seconds(options.read_timeout_s)) expired.push_back(conn.get());
        break;
      }
    }
    for (auto* conn : expired) close(*conn);
    for (auto* conn : late_heads) {
      LoopCounters::add(m_counters.heads_timed_out, 1);
      refuse_head(*conn, 408, "request_timeout",
                  "request head not received within " + std::to_string(options.head_timeout_s) + " s");
    }
  }

  Server::Impl& m_server;
  int m_epoll = -1;
  int m_wake_fd = -1;
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> m_conns;
  std::vector<std::uint64_t> m_dead;  // closed this iteration, freed at its end
  std::uint64_t m_next_key = 2;
  std::optional<Clock::time_point> m_accept_paused_until;  // out of descriptors: accept again then  // 0 and 1 are the listening socket and the wake-up fd
  Clock::time_point m_now = Clock::now();
  char m_scratch[64 * 1024];
  LoopCounters m_counters;

  std::mutex m_mutex;
  std::vector<Completion> m_completions;
  std::vector<Completion> m_draining;
  std::vector<std::pair<int, std::string>> m_adopted;  // connections handed over by other loops
};

Server::Server(ServerOptions options) : m_impl(std::make_unique<Impl>())
{
  m_impl->host_policy = HostPolicy(options.host, options.allowed_hosts);
  m_impl->options = std::move(options);
}

Server::~Server()
{
  stop();
  if (m_impl->listen_fd >= 0) ::close(m_impl->listen_fd);
}

namespace {
void add_route(std::vector<Route>& routes, Route route)
{
  std::erase_if(routes, [&](const Route& r) { return r.prefix == route.prefix; });
  routes.push_back(std::move(route));
  std::stable_sort(routes.begin(), routes.end(), [](const Route& a, const Route& b) { return a.prefix.size() > b.prefix.size(); });
}
} // namespace

void Server::route(std::string prefix, Handler handler)
{
  add_route(m_impl->routes, {std::move(prefix), std::move(handler), {}});
}

void Server::route_async(std::string prefix, AsyncHandler handler)
{
  add_route(m_impl->routes, {std::move(prefix), {}, std::move(handler)});
}

void Server::set_access_log(AccessLog log)
{
  m_impl->access_log = std::move(log);
}

Result<int> Server::bind()
{
  const auto& opts = m_impl->options;
  auto where = opts.host + ":" + std::to_string(opts.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string port_text = std::to_string(opts.port);
  if (::getaddrinfo(opts.host.c_str(), port_text.c_str(), &hints, &found) != 0 || !found)
    return fail(ErrorKind::network, "cannot listen on " + where + ": unknown host");
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  int fd = -1;
  for (auto* ai = found; ai; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 1024) == 0) break;
    ::close(fd);
    fd = -1;
  }
  if (fd < 0) {
    if (opts.port == 0) return fail(ErrorKind::network, "cannot bind " + opts.host + ": no free port");
    return fail(ErrorKind::network, "cannot listen on " + where + " (address in use, or not an address of this machine)");
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  int port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6&>(bound).sin6_port)
                                         : ntohs(reinterpret_cast<sockaddr_in&>(bound).sin_port);
  if (m_impl->listen_fd >= 0) ::close(m_impl->listen_fd);
  m_impl->listen_fd = fd;
  return port;
}

void Server::run()
{
  auto& impl = *m_impl;
  if (impl.listen_fd < 0) return;
  int count = impl.options.loops;
  if (count <= 0) count = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u));
  {
    std::lock_guard lock(impl.loops_mutex);
    if (impl.stopping.load()) return;
    impl.pool = std::make_unique<HandlerPool>(impl.options.threads);
    for (int i = 0; i < count; ++i) impl.loops.push_back(std::make_unique<Impl::Loop>(impl));
  }
  std::vector<std::thread> threads;
  for (int i = 1; i < count; ++i)
    threads.emplace_back([&impl, i] {
      ::pthread_setname_np(::pthread_self(), "http-loop");  // for top -H and perf
      impl.loops[static_cast<std::size_t>(i)]->run();
    });
  impl.loops[0]->run();
  for (auto& t : threads) t.join();
  // Every loop has answered its last request, so no handler is running.
  impl.pool->stop();
  std::lock_guard lock(impl.loops_mutex);
  for (const auto& loop : impl.loops) loop->counters().add_to(impl.retired_stats);
  impl.loops.clear();
}

ServerStats Server::stats() const
{
  std::lock_guard lock(m_impl->loops_mutex);
  ServerStats stats = m_impl->retired_stats;
  for (const auto& loop : m_impl->loops) loop->counters().add_to(stats);
  return stats;
}

void Server::stop()
{
  std::lock_guard lock(m_impl->loops_mutex);
  m_impl->stopping = true;
  for (auto& loop : m_impl->loops) loop->wake();
}

} // namespace centrali::http
