#include "centrali/http/async_client.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "centrali/http/response_parser.hpp"
#include "centrali/util/time.hpp"
#include "centrali/util/url.hpp"

namespace centrali::http {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Bodies past the kept prefix are read and dropped so the connection stays
// reusable; past this cap the connection is abandoned instead (as ClientPool).
constexpr std::uint64_t k_drain_cap = 8 << 20;
// Idle keep-alive connections are closed after this long unused.
constexpr auto k_idle_limit = 30s;
// How long a host name's addresses are trusted before looking again.
constexpr auto k_dns_ttl = 30s;

struct Address {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

struct Conn;
struct Origin;

struct Pending {
  OutboundRequest request;
  AsyncClient::Done done;
  Url url;
  std::string head;  // request line and headers
  std::int64_t started_ms = 0;
  Clock::time_point deadline;
  std::multimap<Clock::time_point, Pending*>::iterator timer;
  Origin* origin = nullptr;
  Conn* conn = nullptr;     // null while waiting for a connection
  bool retried = false;     // resent once after a reused connection died
};

struct Conn {
  enum class Phase { connecting, writing, reading, idle };
  int fd = -1;
  Origin* origin = nullptr;
  Phase phase = Phase::connecting;
  std::uint32_t interest = 0;  // epoll events registered
  std::size_t address = 0;     // which of the origin's addresses
  std::unique_ptr<Pending> pending;
  std::size_t written = 0;
  ResponseParser parser;
  int served = 0;              // responses completed on this connection
  Clock::time_point idle_since;
  explicit Conn(std::size_t max_body) : parser(max_body) {}
};

struct Origin {
  std::string host;
  int port = 0;
  std::string where;        // "host:port" for error texts
  std::string host_header;
  std::vector<Address> addresses;
  Clock::time_point addresses_until;
  bool numeric = false;
  bool resolving = false;
  int open = 0;
  std::vector<Conn*> idle;
  std::deque<std::unique_ptr<Pending>> waiting;
};

std::string timeout_text(const Pending& p)
{
  return timeutil::format_duration(p.request.timeout);
}

bool numeric_address(const std::string& host, int port, Address& out)
{
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    out.len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.addr);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    out.len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

// Headers the client owns: a caller's copy would contradict the framing.
bool framing_header(const std::string& name)
{
  return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") || iequals(name, "Connection");
}

std::string request_head(const OutboundRequest& r, const Url& url, const std::string& host_header)
{
  std::string head;
  head.reserve(256 + r.headers.size() * 48);
  head += r.method.empty() ? "POST" : r.method;
  head += ' ';
  head += url.target;
  head += " HTTP/1.1\r\n";
  std::string content_type = r.content_type;
  bool has_host = false;
  for (const auto& h : r.headers) {
    if (iequals(h.name, "Content-Type")) {
      if (content_type.empty()) content_type = h.value;
      continue;
    }
    if (framing_header(h.name)) continue;
    has_host |= iequals(h.name, "Host");
    head += h.name;
    head += ": ";
    head += h.value;
    head += "\r\n";
  }
  if (!has_host) {
    head += "Host: ";
    head += host_header;
    head += "\r\n";
  }
  if (content_type.empty()) content_type = "application/json";
  head += "Content-Type: ";
  head += content_type;
  head += "\r\n";
  head += "Content-Length: ";
  head += std::to_string(r.body.size());
  head += "\r\n\r\n";
  return head;
}

} // namespace

struct AsyncClient::Impl {
  AsyncClientOptions options;
  int epfd = -1;
  int wakefd = -1;
  std::thread loop_thread;
  std::atomic<std::thread::id> loop_id{};
  std::atomic<std::size_t> opened{0};

  // Handed over from other threads.
  std::mutex mutex;
  std::vector<std::unique_ptr<Pending>> submitted;
  struct Resolved {
    std::string host;
    int port = 0;
    std::vector<Address> addresses;
    std::string error;
  };
  std::vector<Resolved> resolved;
  bool stopping = false;

  // The resolver: getaddrinfo blocks, so it runs off the loop thread.
  std::mutex resolve_mutex;
  std::condition_variable resolve_cv;
  std::deque<std::pair<std::string, int>> to_resolve;
  bool resolver_stopping = false;
  std::thread resolver;

  // Loop-thread state only.
  std::unordered_map<std::string, std::unique_ptr<Origin>> origins;
  std::multimap<Clock::time_point, Pending*> timers;
  std::vector<Conn*> graveyard;  // closed during one batch of events, freed after it
  std::vector<char> buffer = std::vector<char>(64 * 1024);

  explicit Impl(AsyncClientOptions o) : options(o)
  {
    epfd = epoll_create1(EPOLL_CLOEXEC);
    wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // null marks the wake-up descriptor
    epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev);
    loop_thread = std::thread([this] {
      ::pthread_setname_np(::pthread_self(), "http-client");  // for top -H and perf
      run();
    });
  }

  ~Impl()
  {
    stop();
    if (epfd >= 0) ::close(epfd);
    if (wakefd >= 0) ::close(wakefd);
  }

  void wake()
  {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wakefd, &one, sizeof one);
  }

  void stop()
  {
    {
      std::lock_guard lock(mutex);
      if (stopping && !loop_thread.joinable()) return;
      stopping = true;
    }
    wake();
    if (loop_thread.joinable()) loop_thread.join();
    {
      std::lock_guard lock(resolve_mutex);
      resolver_stopping = true;
    }
    resolve_cv.notify_all();
    if (resolver.joinable()) resolver.join();
  }

  // ---- completion -------------------------------------------------------

  void complete(std::unique_ptr<Pending> p, SendOutcome outcome)
  {
    timers.erase(p->timer);
    outcome.duration_ms = timeutil::now_ms() - p->started_ms;
    outcome.request_headers = std::move(p->request.headers);
    outcome.request_body = std::move(p->request.body);
    auto done = std::move(p->done);
    p.reset();
    if (done) done(std::move(outcome));
  }

  void fail(std::unique_ptr<Pending> p, std::string error)
  {
    SendOutcome outcome;
    outcome.error = std::move(error);
    complete(std::move(p), std::move(outcome));
  }

  // ---- connections --------------------------------------------------------

  void watch(Conn* c, std::uint32_t events)
  {
    if (c->interest == events) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = c;
    epoll_ctl(epfd, c->interest == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->fd, &ev);
    c->interest = events;
  }

  void close_conn(Conn* c)
  {
    if (c->fd >= 0) {
      epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, nullptr);
      ::close(c->fd);
      c->fd = -1;
    }
    auto& idle = c->origin->idle;
    std::erase(idle, c);
    --c->origin->open;
    graveyard.push_back(c);
  }

  // Fails the request a broken connection carried, then gives the freed
  // slot to whoever waits for one: without this a request queued behind a
  // failed connection sat until its deadline and reported a timeout. The
  // caller hears first (it may withdraw what waits, as after a 410).
  void drop(Conn* c, std::string error)
  {
    auto p = std::move(c->pending);
    auto& o = *c->origin;
    close_conn(c);
    fail(std::move(p), std::move(error));
    pump(o);
  }

  // Starts a nonblocking connect to the next untried address; false when
  // none is left.
  bool connect_next(Conn* c)
  {
    auto& addrs = c->origin->addresses;
    while (c->address < addrs.size()) {
      const auto& a = addrs[c->address];
      if (c->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, nullptr);
        ::close(c->fd);
        c->fd = -1;
        c->interest = 0;
      }
      c->fd = ::socket(a.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (c->fd < 0) return false;
      int one = 1;
      setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      int r = ::connect(c->fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len);
      if (r == 0 || errno == EINPROGRESS) {
        c->phase = r == 0 ? Conn::Phase::writing : Conn::Phase::connecting;
        watch(c, EPOLLOUT);
        return true;
      }
      ++c->address;
    }
    return false;
  }

  void open_conn(Origin& o, std::unique_ptr<Pending> p)
  {
    auto* c = new Conn(options.max_response_body);
    c->origin = &o;
    ++o.open;
    ++opened;
    p->conn = c;
    c->pending = std::move(p);
    if (!connect_next(c)) {
      auto lost = std::move(c->pending);
      close_conn(c);
      fail(std::move(lost), "connect to " + o.where + ": connection refused or host unreachable");
      return;
    }
    if (c->phase == Conn::Phase::writing) try_write(c);
  }

  void assign(Conn* c, std::unique_ptr<Pending> p)
  {
    p->conn = c;
    c->pending = std::move(p);
    c->written = 0;
    c->parser.reset();
    c->phase = Conn::Phase::writing;
    try_write(c);
  }

  // True (and completed unsent) when the caller withdrew `p` while it waited.
  bool withdrawn(std::unique_ptr<Pending>& p)
  {
    if (!p->request.withdrawn || !p->request.withdrawn->load(std::memory_order_acquire)) return false;
    SendOutcome outcome;
    outcome.withdrawn = true;
    outcome.error = "withdrawn before it was sent";
    complete(std::move(p), std::move(outcome));
    return true;
  }

  // Gives queued requests of `o` to idle or new connections.
  void pump(Origin& o)
  {
    while (!o.waiting.empty()) {
      if (withdrawn(o.waiting.front())) {
        o.waiting.pop_front();
        continue;
      }
      if (!o.idle.empty()) {
        auto* c = o.idle.back();
        o.idle.pop_back();
        auto p = std::move(o.waiting.front());
        o.waiting.pop_front();
        assign(c, std::move(p));
        continue;
      }
      if (o.open >= options.max_connections_per_origin) return;
      if (!o.numeric && (o.addresses.empty() || Clock::now() >= o.addresses_until)) {
        begin_resolve(o);
        return;
      }
      auto p = std::move(o.waiting.front());
      o.waiting.pop_front();
      open_conn(o, std::move(p));
    }
  }

  void try_write(Conn* c)
  {
    auto& p = *c->pending;
    const std::size_t total = p.head.size() + p.request.body.size();
    while (c->written < total) {
      iovec iov[2];
      int n_iov = 0;
      if (c->written < p.head.size()) {
        iov[n_iov++] = {p.head.data() + c->written, p.head.size() - c->written};
        if (!p.request.body.empty()) iov[n_iov++] = {p.request.body.data(), p.request.body.size()};
      } else {
        auto off = c->written - p.head.size();
        iov[n_iov++] = {p.request.body.data() + off, p.request.body.size() - off};
      }
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = static_cast<std::size_t>(n_iov);
      auto n = ::sendmsg(c->fd, &msg, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          watch(c, EPOLLOUT);
          return;
        }
        lost(c, true);
        return;
      }
      c->written += static_cast<std::size_t>(n);
    }
    c->phase = Conn::Phase::reading;
    watch(c, EPOLLIN);
  }

  // The connection died under a request. A reused keep-alive connection
  // that the server had already closed gets one fresh try: the server never
  // saw the request (no byte of a response came back).
  void lost(Conn* c, bool while_writing)
  {
    auto& o = *c->origin;
    if (c->served > 0 && !c->parser.started() && !c->pending->retried) {
      auto p = std::move(c->pending);
      close_conn(c);
      p->conn = nullptr;
      p->retried = true;
      o.waiting.push_front(std::move(p));
      pump(o);
      return;
    }
    drop(c, while_writing ? "connection to " + o.where + " closed while sending the request"
                          : "connection to " + o.where + " closed before a complete response");
  }

  void finish(Conn* c, bool reusable)
  {
    auto p = std::move(c->pending);
    auto& o = *c->origin;
    p->conn = nullptr;
    auto& parser = c->parser;
    SendOutcome outcome;
    OutboundResponse res;
    res.status = parser.status();
    res.body_truncated = parser.body_truncated();  // before the body moves out
    res.headers = std::move(parser.headers());
    res.body = std::move(parser.body());
    outcome.response = std::move(res);
    ++c->served;
    if (reusable && parser.keep_alive()) {
      c->phase = Conn::Phase::idle;
      c->idle_since = Clock::now();
      o.idle.push_back(c);
    } else {
      close_conn(c);
    }
    // The next waiting request goes out before the caller hears of a
    // success: the connection would otherwise sit idle while the completion
    // runs (which records, and may sign and queue another request). After
    // any other answer the caller hears first: it may withdraw what waits
    // (a 410 Gone ends a webhook), and a failing endpoint is in no hurry.
    const bool success = outcome.response->status >= 200 && outcome.response->status < 300;
    if (success) pump(o);
    complete(std::move(p), std::move(outcome));
    if (!success) pump(o);
  }

  void on_readable(Conn* c)
  {
    while (true) {
      auto n = ::recv(c->fd, buffer.data(), buffer.size(), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        lost(c, false);
        return;
      }
      if (n == 0) {
        c->parser.finish_on_close();
        if (c->parser.state() == ResponseParser::State::done) finish(c, false);
        else lost(c, false);
        return;
      }
      std::string_view data(buffer.data(), static_cast<std::size_t>(n));
      auto used = c->parser.feed(data);
      switch (c->parser.state()) {
      case ResponseParser::State::done:
        // Bytes past the response belong to no request: do not reuse.
        finish(c, used == data.size());
        return;
      case ResponseParser::State::error:
        drop(c, "invalid response from " + c->origin->where + ": " + c->parser.error());
        return;
      case ResponseParser::State::more:
        if (c->parser.headers_done() && c->parser.body_total() > k_drain_cap) {
          finish(c, false);  // keep what we have; the rest is not worth reading
          return;
        }
        // A short read drained the socket: wait for epoll instead of
        // paying a recv that only says EAGAIN.
        if (static_cast<std::size_t>(n) < buffer.size()) return;
      }
    }
  }

  void on_event(Conn* c, std::uint32_t events)
  {
    if (c->fd < 0) return;  // closed earlier in this batch
    switch (c->phase) {
    case Conn::Phase::connecting: {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0 && !(events & EPOLLERR)) {
        c->phase = Conn::Phase::writing;
        try_write(c);
        return;
      }
      ++c->address;
      if (connect_next(c)) {
        if (c->phase == Conn::Phase::writing) try_write(c);
        return;
      }
      drop(c, "connect to " + c->origin->where + ": connection refused or host unreachable");
      return;
    }
    case Conn::Phase::writing: try_write(c); return;
    case Conn::Phase::reading: on_readable(c); return;
    case Conn::Phase::idle: close_conn(c); return;  // the server closed it (or sent junk)
    }
  }

  // ---- names --------------------------------------------------------------

  void begin_resolve(Origin& o)
  {
    if (o.resolving) return;
    o.resolving = true;
    {
      std::lock_guard lock(resolve_mutex);
      to_resolve.emplace_back(o.host, o.port);
      if (!resolver.joinable()) resolver = std::thread([this] { resolve_loop(); });
    }
    resolve_cv.notify_one();
  }

  void resolve_loop()
  {
    while (true) {
      std::pair<std::string, int> job;
      {
        std::unique_lock lock(resolve_mutex);
        resolve_cv.wait(lock, [&] { return resolver_stopping || !to_resolve.empty(); });
        if (resolver_stopping) return;
        job = std::move(to_resolve.front());
        to_resolve.pop_front();
      }
      Resolved r;
      r.host = job.first;
      r.port = job.second;
      addrinfo hints{};
      hints.ai_family = AF_UNSPEC;
      hints.ai_socktype = SOCK_STREAM;
      addrinfo* list = nullptr;
      auto service = std::to_string(job.second);
      int rc = getaddrinfo(job.first.c_str(), service.c_str(), &hints, &list);
      if (rc != 0) {
        r.error = gai_strerror(rc);
      } else {
        for (auto* ai = list; ai; ai = ai->ai_next) {
          Address a;
          std::memcpy(&a.addr, ai->ai_addr, ai->ai_addrlen);
          a.len = static_cast<socklen_t>(ai->ai_addrlen);
          r.addresses.push_back(a);
        }
        freeaddrinfo(list);
        if (r.addresses.empty()) r.error = "no addresses";
      }
      {
        std::lock_guard lock(mutex);
        resolved.push_back(std::move(r));
      }
      wake();
    }
  }

  void on_resolved(Resolved& r)
  {
    auto it = origins.find(r.host + ":" + std::to_string(r.port));
    if (it == origins.end()) return;
    auto& o = *it->second;
    o.resolving = false;
    if (!r.error.empty()) {
      auto waiting = std::move(o.waiting);
      o.waiting.clear();
      for (auto& p : waiting) fail(std::move(p), "cannot resolve host " + o.host + ": " + r.error);
      return;
    }
    o.addresses = std::move(r.addresses);
    o.addresses_until = Clock::now() + k_dns_ttl;
    pump(o);
  }

  // ---- requests -----------------------------------------------------------

  Origin& origin_for(const Url& url)
  {
    auto key = url.host + ":" + std::to_string(url.port);
    auto& slot = origins[key];
    if (!slot) {
      slot = std::make_unique<Origin>();
      auto& o = *slot;
      o.host = url.host;
      o.port = url.port;
      bool v6 = url.host.find(':') != std::string::npos;
      auto host = v6 ? "[" + url.host + "]" : url.host;
      o.where = host + ":" + std::to_string(url.port);
      o.host_header = url.port == 80 ? host : o.where;
      Address a;
      if (numeric_address(url.host, url.port, a)) {
        o.numeric = true;
        o.addresses.push_back(a);
      }
    }
    return *slot;
  }

  void start(std::unique_ptr<Pending> p)
  {
    p->timer = timers.emplace(p->deadline, p.get());
    auto url = parse_url(p->request.url);
    if (!url) return fail(std::move(p), url.error().message);
    if (url->scheme != "http") return fail(std::move(p), "the event-driven client sends only http:// requests");
    // A line break in a header would let its value write headers of its own.
    if (auto why = unsendable_header(p->request.headers); !why.empty()) return fail(std::move(p), why);
    if (!is_sendable_header_value(p->request.content_type))
      return fail(std::move(p), "refused to send header 'Content-Type': its value holds a line break or NUL");
    p->url = std::move(*url);
    auto& o = origin_for(p->url);
    p->origin = &o;
    p->head = request_head(p->request, p->url, o.host_header);
    o.waiting.push_back(std::move(p));
    pump(o);
  }

  void expire(Clock::time_point now)
  {
    while (!timers.empty() && timers.begin()->first <= now) {
      Pending* raw = timers.begin()->second;
      std::unique_ptr<Pending> p;
      std::string why;
      if (raw->conn) {
        auto* c = raw->conn;
        bool connecting = c->phase == Conn::Phase::connecting;
        drop(c, connecting ? "connect to " + c->origin->where + ": timed out after " + timeout_text(*raw)
                           : "timed out after " + timeout_text(*raw) + " waiting for " + c->origin->where);
        continue;
      }
      if (raw->origin) {
        auto& waiting = raw->origin->waiting;
        for (auto it = waiting.begin(); it != waiting.end(); ++it)
          if (it->get() == raw) {
            p = std::move(*it);
            waiting.erase(it);
            break;
          }
        why = raw->origin->resolving ? "cannot resolve host " + raw->origin->host + ": timed out after " + timeout_text(*p)
                                     : "timed out after " + timeout_text(*p) + " waiting for " + raw->origin->where;
      }
      if (!p) {  // cannot happen: every timer belongs to a request we hold
        timers.erase(timers.begin());
        continue;
      }
      fail(std::move(p), why);
    }
  }

  void close_idle(Clock::time_point now)
  {
    for (auto& [key, o] : origins) {
      auto idle = o->idle;  // close_conn edits the list
      for (auto* c : idle)
        if (now - c->idle_since >= k_idle_limit) close_conn(c);
    }
  }

  void bury()
  {
    for (auto* c : graveyard) delete c;
    graveyard.clear();
  }

  void shut_down()
  {
    std::vector<std::unique_ptr<Pending>> orphans;
    {
      std::lock_guard lock(mutex);
      orphans = std::move(submitted);
      submitted.clear();
    }
    for (auto& p : orphans) {
      p->timer = timers.emplace(p->deadline, p.get());
      fail(std::move(p), "the HTTP client is stopping");
    }
    for (auto& [key, o] : origins) {
      auto waiting = std::move(o->waiting);
      o->waiting.clear();
      for (auto& p : waiting) fail(std::move(p), "the HTTP client is stopping");
    }
    // Every open connection is either idle or carries a request.
    std::vector<Conn*> open;
    for (const auto& [deadline, pending] : timers)
      if (pending->conn) open.push_back(pending->conn);
    for (auto* c : open) {
      auto p = std::move(c->pending);
      close_conn(c);
      fail(std::move(p), "the HTTP client is stopping");
    }
    for (auto& [key, o] : origins) {
      auto idle = o->idle;
      for (auto* c : idle) close_conn(c);
    }
    bury();
  }

  void run()
  {
    loop_id = std::this_thread::get_id();
    std::vector<epoll_event> events(256);
    auto last_sweep = Clock::now();
    while (true) {
      int wait_ms = 1000;
      if (!timers.empty()) {
        auto until = std::chrono::duration_cast<std::chrono::milliseconds>(timers.begin()->first - Clock::now());
        wait_ms = static_cast<int>(std::clamp<std::int64_t>(until.count() + 1, 0, 1000));
      }
      int n = epoll_wait(epfd, events.data(), static_cast<int>(events.size()), wait_ms);
      bool woken = false;
      for (int i = 0; i < n; ++i) {
        const auto& ev = events[static_cast<std::size_t>(i)];
        if (ev.data.ptr == nullptr) woken = true;
        else on_event(static_cast<Conn*>(ev.data.ptr), ev.events);
      }
      bury();
      // Reset the wake-up before taking the queue: a send that lands after
      // the swap below finds the queue empty and wakes us again.
      if (woken) {
        std::uint64_t drained = 0;
        [[maybe_unused]] auto r = ::read(wakefd, &drained, sizeof drained);
      }
      // Take what other threads handed over (the wake-up may have been in
      // this batch or not: look every time, it is one uncontended lock).
      std::vector<std::unique_ptr<Pending>> incoming;
      std::vector<Resolved> names;
      bool stop_now = false;
      {
        std::lock_guard lock(mutex);
        incoming.swap(submitted);
        names.swap(resolved);
        stop_now = stopping;
      }
      if (stop_now) {
        for (auto& p : incoming) submitted.push_back(std::move(p));
        shut_down();
        return;
      }
      for (auto& name : names) on_resolved(name);
      for (auto& p : incoming) start(std::move(p));
      auto now = Clock::now();
      expire(now);
      if (now - last_sweep >= 1s) {
        close_idle(now);
        last_sweep = now;
      }
      bury();
    }
  }
};

AsyncClient::AsyncClient(AsyncClientOptions options) : m_impl(std::make_unique<Impl>(options)) {}

AsyncClient::~AsyncClient() = default;

void AsyncClient::send(OutboundRequest request, Done done)
{
  auto p = std::make_unique<Pending>();
  p->started_ms = timeutil::now_ms();
  p->deadline = Clock::now() + request.timeout;
  p->request = std::move(request);
  p->done = std::move(done);
  // From a completion on the loop thread (the usual case under load: one
  // response frees the slot for the next request), start at once: the
  // request goes out now instead of after the whole batch of events.
  const bool on_loop = std::this_thread::get_id() == m_impl->loop_id.load();
  bool refused = false;
  bool wake = false;
  {
    std::lock_guard lock(m_impl->mutex);
    refused = m_impl->stopping;
    if (!refused && !on_loop) {
      // The loop takes the whole queue when it wakes: only the first
      // request into an empty queue needs to wake it.
      wake = m_impl->submitted.empty();
      m_impl->submitted.push_back(std::move(p));
    }
  }
  if (!refused && on_loop) {
    m_impl->start(std::move(p));
    return;
  }
  if (refused) {
    SendOutcome outcome;
    outcome.error = "the HTTP client is stopping";
    outcome.request_headers = std::move(p->request.headers);
    outcome.request_body = std::move(p->request.body);
    if (p->done) p->done(std::move(outcome));
    return;
  }
  if (wake) m_impl->wake();
}

void AsyncClient::stop()
{
  m_impl->stop();
}

std::size_t AsyncClient::connections_opened() const
{
  return m_impl->opened.load();
}

} // namespace centrali::http
