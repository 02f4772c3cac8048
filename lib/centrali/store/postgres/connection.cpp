#include "centrali/store/postgres/connection.hpp"
#include "centrali/util/utf8.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "centrali/store/postgres/placeholders.hpp"
#include "centrali/store/postgres/url.hpp"

namespace centrali::store::postgres {
namespace {

constexpr std::int64_t fnv1a(std::string_view text)
{
  std::uint64_t hash = 14695981039346656037ull;
  for (char c : text) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return static_cast<std::int64_t>(hash);
}

// The advisory lock every writer of a store holds for its transaction, so
// writers take turns as with SQLite's BEGIN IMMEDIATE. Derived from a name
// so that it says whose it is in pg_locks.
constexpr std::int64_t k_write_lock_key = fnv1a("centrali.write");

// Type OIDs (pg_type.oid, fixed for built-in types).
constexpr Oid k_bool_oid = 16;
constexpr Oid k_bytea_oid = 17;
constexpr Oid k_int8_oid = 20;
constexpr Oid k_int2_oid = 21;
constexpr Oid k_int4_oid = 23;
constexpr Oid k_float4_oid = 700;
constexpr Oid k_float8_oid = 701;
constexpr Oid k_numeric_oid = 1700;

const std::string k_locked = "the store is locked by another process (timed out waiting)";
const std::string k_lost_transaction =
    "lost the connection to the PostgreSQL server during a transaction (the transaction was rolled back)";
// The session's plan_cache_mode: every run of a statement planned for the
// tables as they are (see Planning).
constexpr const char* k_plan_each_run = "force_custom_plan";

struct ClearResult {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ClearResult>;

// libpq's first line, without "connection to server at ... failed: " and
// the severity: "connection refused", "password authentication failed...".
std::string reason(const char* message)
{
  std::string_view text = message ? message : "";
  text = text.substr(0, text.find('\n'));
  if (text.starts_with("connection to server"))
    if (auto p = text.find("failed: "); p != std::string_view::npos) text.remove_prefix(p + 8);
  for (std::string_view severity : {"FATAL:  ", "ERROR:  "})
    if (text.starts_with(severity)) text.remove_prefix(severity.size());
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  std::string out(text.empty() ? "no reason given" : text);
  // "Connection refused" reads as part of our sentence; "SSL ..." stays.
  if (out.size() > 1 && std::isupper(static_cast<unsigned char>(out[0])) &&
      std::islower(static_cast<unsigned char>(out[1])))
    out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  return out;
}

std::int64_t to_int64(std::string_view text)
{
  if (text == "t") return 1;  // a boolean column, read as SQLite would hold it
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// Rows an INSERT, UPDATE, DELETE or MERGE changed; nothing for any other
// command, which (as with SQLite's changes()) leaves the count alone.
std::optional<std::int64_t> rows_changed(const PGresult* result)
{
  auto* r = const_cast<PGresult*>(result);  // libpq's getters take non-const
  const std::string_view tag = PQcmdStatus(r);
  for (std::string_view verb : {"INSERT ", "UPDATE ", "DELETE ", "MERGE "})
    if (tag.starts_with(verb)) return to_int64(PQcmdTuples(r));
  return std::nullopt;
}

// The words of `sql`, upper-cased (letters, digits and _; the rest parts them).
std::vector<std::string> words_of(std::string_view sql)
{
  std::vector<std::string> words;
  std::string word;
  for (char c : sql) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      word += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

bool has_word(const std::vector<std::string>& words, std::string_view word)
{
  return std::ranges::find(words, word) != words.end();
}

// What `sql` does to the open transaction: ends it (COMMIT, END), drops it
// (ROLLBACK, ABORT; not ROLLBACK TO SAVEPOINT), or neither.
enum class Ending { none, commit, rollback };
Ending ending_of(std::string_view sql)
{
  const auto words = words_of(sql);
  const std::string first = words.empty() ? "" : words.front();
  if (first == "COMMIT" || first == "END") return Ending::commit;
  if (first != "ROLLBACK" && first != "ABORT") return Ending::none;
  return has_word(words, "TO") ? Ending::none : Ending::rollback;
}

// How a prepared statement's runs are planned, as far as a transaction that
// keeps plans (Planning::once) must know.
enum class StatementPlan {
  on_the_rows,              // its best plan may depend on what the tables hold
  alike,                    // the same whatever they hold, or none (a command like SAVEPOINT)
  rolls_back_to_savepoint,  // undoes SET LOCAL made since the savepoint
};
StatementPlan statement_plan(std::string_view sql)
{
  const auto words = words_of(sql);
  if (words.empty()) return StatementPlan::alike;
  const auto& first = words.front();
  if (first == "ROLLBACK" && has_word(words, "TO")) return StatementPlan::rolls_back_to_savepoint;
  // Inserting given values: no scan to choose (a word SELECT or WHERE
  // anywhere, even in a string, counts as one: the safe side).
  if (first == "INSERT")
    return has_word(words, "SELECT") || has_word(words, "WHERE") ? StatementPlan::on_the_rows : StatementPlan::alike;
  for (std::string_view command :
       {"BEGIN", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "SET", "NOTIFY", "LISTEN"})
    if (first == command) return StatementPlan::alike;
  return StatementPlan::on_the_rows;
}

void ignore_notice(void*, const char*) {}

class PgConnection final : public Connection {
public:
  PgConnection(PGconn* conn, std::string url, Durability durability)
      : m_conn(conn), m_url(std::move(url)), m_durability(durability)
  {
    // libpq prints notices (a ROLLBACK with no transaction...) to stderr
    // by default; lib/ never prints.
    PQsetNoticeProcessor(m_conn, ignore_notice, nullptr);
  }
  ~PgConnection() override { PQfinish(m_conn); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  Backend backend() const override { return Backend::postgresql; }
  std::unique_ptr<StatementImpl> prepare(const std::string& sql) override;
  void exec(const std::string& sql) override
  {
    if (m_lost_transaction) {
      // The caller ends the transaction the server already dropped: a
      // rollback has nothing left to do, a commit must hear it failed.
      const auto ending = ending_of(sql);
      if (ending != Ending::none) m_lost_transaction = false;
      if (ending == Ending::rollback) return;
      if (ending == Ending::commit) throw DatabaseError(k_lost_transaction, StoreFault::unavailable);
    }
    note_changes(query(sql).get());
    // (A query without parameters is planned for its run, whatever the mode.)
    if (statement_plan(sql) == StatementPlan::rolls_back_to_savepoint) rolled_back_to_savepoint();
  }
  std::int64_t changes() override { return m_changes; }
  std::int64_t last_insert_id() override
  {
    auto r = query("SELECT lastval()");
    return to_int64(PQgetvalue(r.get(), 0, 0));
  }
  bool in_transaction() override
  {
    const auto status = PQtransactionStatus(m_conn);
    return m_lost_transaction || status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
  }
  using Connection::begin_write;
  void begin_write(WriteLock lock) override
  {
    const auto key = std::to_string(k_write_lock_key);
    const std::string take = lock == WriteLock::shared ? "pg_advisory_xact_lock_shared(" : "pg_advisory_xact_lock(";
    // One round trip when the lock is free: the durability of this commit
    // and the lock. The session's synchronous_commit is on (start_session):
    // only a commit that may skip the wait for its flush says so.
    // lock_timeout bounds the wait for the lock only: it is back to the
    // session's value for the statements that follow. A wait of 0 is "do
    // not wait", where lock_timeout 0 would mean "forever".
    std::string sql = m_durability == Durability::full ? "BEGIN; " : "BEGIN; SET LOCAL synchronous_commit = off; ";
    // The session plans each run (start_session); a transaction whose work
    // said so keeps plans, until a statement that depends on the rows.
    if (m_planning == Planning::once) sql += "SET LOCAL plan_cache_mode = force_generic_plan; ";
    m_began_keeping_plans = m_keeps_plans = false;
    if (m_lock_wait_ms == 0) {
      begin(sql + "SELECT pg_try_" + take.substr(3) + key + ")", LockTaking::tried_or_locked);
    } else if (m_lock_wait_ms > 0) {
      // Most often the lock is free (for a shared taker: nobody holds or
      // waits for it exclusively): trying takes two statements fewer than a
      // bounded wait, and each costs the server a parse and a plan on every
      // transaction (a listener's batch is one). Only a lock that is busy
      // costs a second round trip, to wait.
      if (!begin(sql + "SELECT pg_try_" + take.substr(3) + key + ")", LockTaking::tried)) {
        try {
          query("SET LOCAL lock_timeout = '" + std::to_string(m_lock_wait_ms) + "ms'; SELECT " + take + key +
                "); SET LOCAL lock_timeout = DEFAULT");
        } catch (...) {
          abandon_transaction();
          throw;
        }
      }
    } else {
      begin(sql + "SELECT " + take + key + ")", LockTaking::waited);
    }
    m_began_keeping_plans = m_keeps_plans = m_planning == Planning::once;
  }
  void begin_read() override
  {
    m_began_keeping_plans = m_keeps_plans = false;
    begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", LockTaking::waited);
  }
  // Read by the next begin_write: every write commits in a transaction of
  // its own making, so no round trip of its own is needed.
  void set_durability(Durability durability) override { m_durability = durability; }
  // Until set, begin_write waits as long as the server's lock_timeout says.
  void set_lock_wait(int milliseconds) override { m_lock_wait_ms = milliseconds; }
  // Read by the next begin_write, as the durability is.
  void set_planning(Planning planning) override { m_planning = planning; }

  // For PgStatement, before a statement whose best plan depends on what the
  // tables hold: it is planned for them, whatever the transaction began
  // with. The session's mode comes back for the rest of the transaction
  // (one round trip, in work that said Planning::once wrongly or rarely: a
  // listener's batch meeting a repeated delivery id).
  void plan_for_the_rows()
  {
    if (!m_keeps_plans || PQtransactionStatus(m_conn) != PQTRANS_INTRANS) return;
    query(std::string("SET LOCAL plan_cache_mode = ") + k_plan_each_run);
    m_keeps_plans = false;
  }
  // After ROLLBACK TO a savepoint, which undoes a SET LOCAL made since it:
  // which mode holds is not known here; as at the transaction's start is
  // the safe guess.
  void rolled_back_to_savepoint() { m_keeps_plans = m_began_keeping_plans; }

  // For PgStatement.
  PGconn* handle() const { return m_conn; }
  std::uint64_t session() const { return m_session; }
  std::string next_statement_name() { return "s" + std::to_string(++m_statements); }
  // Makes the session fit for a command: reconnects once if it was lost.
  void ready();
  // One libpq call whose result must be a success.
  template <class Call>
  PgResult run(Call&& call)
  {
    auto result = send(std::forward<Call>(call));
    const auto status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) raise(result.get());
    return result;
  }
  void note_changes(const PGresult* result)
  {
    if (auto changed = rows_changed(result)) m_changes = *changed;
  }
  // A statement on this session is no longer needed; DEALLOCATEd before
  // the next command (not now: a destructor must not throw or block on a
  // failed transaction, which refuses DEALLOCATE).
  void release(const std::string& name, std::uint64_t session) noexcept
  {
    if (session != m_session) return;  // gone with its session
    try {
      m_unreleased.push_back(name);
    } catch (...) {  // out of memory: the server frees it with the session
    }
  }
  bool connection_lost() const { return PQstatus(m_conn) == CONNECTION_BAD; }

  void start_session()
  {
    // bytea_output: decode_bytea reads the hex form (the default since
    // 9.0, but a server or role may say otherwise).
    // plan_cache_mode: a statement is planned for the table as it is when
    // it runs. A plan cached once (after five runs) on a store's first,
    // nearly empty tables stays: the fan-out read a sequential scan and a
    // sort over every event, 60 times slower than the index, until an
    // autovacuum ANALYZE, a minute or more later. Planning costs a few
    // microseconds a statement; that plan cost a listener two thirds of
    // its throughput (bench/postgres.sh). Work that inserts given values
    // keeps its plans all the same (Planning::once, begin_write).
    // synchronous_commit: on, whatever the server or role says, so that an
    // acknowledged event is on disk when its commit returns.
    query("SET bytea_output = hex; SET plan_cache_mode = " + std::string(k_plan_each_run) +
          "; SET synchronous_commit = on");
  }

private:
  template <class Call>
  PgResult send(Call&& call)
  {
    const auto before = PQtransactionStatus(m_conn);
    PgResult result(call());
    // A session lost inside a transaction took the transaction with it; the
    // next session must not run the rest of it as commits of their own.
    // (UNKNOWN is a session already bad before the call: no transaction.)
    const bool was_in = before == PQTRANS_INTRANS || before == PQTRANS_INERROR || before == PQTRANS_ACTIVE;
    if (connection_lost() && was_in) m_lost_transaction = true;
    return result;
  }
  PgResult query(const std::string& sql)
  {
    ready();
    return run([&] { return PQexec(m_conn, sql.c_str()); });
  }
  // How the statements that start a transaction take its lock.
  enum class LockTaking {
    waited,           // waited for (or none is needed): taken once they return
    tried_or_locked,  // tried (the last statement says whether it was taken): StoreFault::locked when not
    tried,            // tried: begin() says whether it was taken, the transaction open either way
  };
  // Runs `sql`, which starts a transaction and takes its lock as `taking`
  // says; returns whether the lock was taken. Anything that fails leaves
  // no transaction open.
  bool begin(const std::string& sql, LockTaking taking)
  {
    if (in_transaction() && !m_lost_transaction)
      throw DatabaseError("cannot start a transaction within a transaction", StoreFault::none);
    m_lost_transaction = false;  // a new transaction: the caller is past the lost one
    try {
      auto r = query(sql);
      if (taking == LockTaking::waited) return true;
      const bool taken = PQgetvalue(r.get(), 0, 0)[0] == 't';
      if (!taken && taking == LockTaking::tried_or_locked) throw DatabaseError(k_locked, StoreFault::locked);
      return taken;
    } catch (...) {
      abandon_transaction();
      throw;
    }
  }
  // As a failed BEGIN IMMEDIATE: no transaction is left open.
  void abandon_transaction()
  {
    if (!connection_lost() && PQtransactionStatus(m_conn) != PQTRANS_IDLE) PgResult(PQexec(m_conn, "ROLLBACK"));
    m_lost_transaction = false;
  }
  void reconnect()
  {
    PQreset(m_conn);
    if (connection_lost())
      throw DatabaseError("cannot reach the PostgreSQL server (" + hide_password(reason(PQerrorMessage(m_conn)), m_url) +
                              ")",
                          StoreFault::unavailable);
    ++m_session;  // statements prepare again on the new session
    m_unreleased.clear();
    start_session();
  }
  [[noreturn]] void raise(const PGresult* result);

  PGconn* m_conn;
  std::string m_url;  // kept to hide its password in messages
  std::uint64_t m_session = 1;
  std::uint64_t m_statements = 0;
  std::vector<std::string> m_unreleased;
  std::int64_t m_changes = 0;
  Durability m_durability;
  int m_lock_wait_ms = -1;
  bool m_lost_transaction = false;
  Planning m_planning = Planning::each_run;
  bool m_keeps_plans = false;          // the open transaction keeps plans now
  bool m_began_keeping_plans = false;  // it began so
};

void PgConnection::ready()
{
  if (connection_lost()) reconnect();
  if (m_lost_transaction) throw DatabaseError(k_lost_transaction, StoreFault::unavailable);
  if (!m_unreleased.empty() && PQtransactionStatus(m_conn) != PQTRANS_INERROR) {
    std::string sql;
    for (const auto& name : m_unreleased) sql += "DEALLOCATE " + name + ";";
    m_unreleased.clear();
    send([&] { return PQexec(m_conn, sql.c_str()); });  // a failure leaves them to the session's end
  }
}

void PgConnection::raise(const PGresult* result)
{
  const char* code = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const std::string_view state = code ? code : "";
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  const char* message = result && *PQresultErrorMessage(result) ? PQresultErrorMessage(result) : PQerrorMessage(m_conn);
  const auto what = hide_password(primary ? std::string(primary) : reason(message), m_url);
  // 08: connection exceptions; 57P01-03: the server shut down or is starting.
  if (connection_lost() || state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03")
    throw DatabaseError("lost the connection to the PostgreSQL server (" + what + ")", StoreFault::unavailable);
  if (state == "53100") throw DatabaseError("the disk is full", StoreFault::broken);
  if (state == "55P03") throw DatabaseError(k_locked, StoreFault::locked);
  // Serialization failure, deadlock: passes when tried again, as SQLITE_BUSY.
  if (state == "40001" || state == "40P01") throw DatabaseError(what, StoreFault::locked);
  // Class 23 (unique, foreign key, not null, check), SQLite's CONSTRAINT.
  if (state.starts_with("23")) throw DatabaseError("constraint failed (" + what + ")", StoreFault::none);
  throw DatabaseError(what, StoreFault::none);
}

// One parameter: NULL, text borrowed from the caller, or a copy it owns.
struct Param {
  enum class Kind { null, borrowed, owned } kind = Kind::null;
  const char* data = nullptr;  // borrowed
  std::size_t size = 0;        // borrowed
  std::string copy;            // owned
  bool binary = false;         // a blob, sent as raw bytes
};

// bytea_output is hex on every session (start_session): `\x` and two hex
// digits a byte.
void decode_bytea(std::string_view text, std::string& out)
{
  if (!text.starts_with("\\x")) throw DatabaseError("a blob came back in an unknown form", StoreFault::none);
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  out.resize((text.size() - 2) / 2);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<char>(nibble(text[2 + 2 * i]) << 4 | nibble(text[3 + 2 * i]));
}

// `text` with each NUL byte and each byte outside valid UTF-8 written \xNN.
std::string escape_unstorable(std::string_view text)
{
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t n = 1;
    while (i + n <= text.size() && !is_valid_utf8(text.substr(i, n)) && n < 4) ++n;
    if (text[i] != 0 && i + n <= text.size() && is_valid_utf8(text.substr(i, n))) {
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    char hex[5];
    std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(text[i]));
    out += hex;
    ++i;
  }
  return out;
}

// Whether `sql` changes rows (its first word is INSERT, UPDATE or DELETE).
bool is_write(std::string_view sql)
{
  auto start = sql.find_first_not_of(" \t\r\n(");
  if (start == std::string_view::npos) return false;
  auto word = sql.substr(start, 6);
  auto upper = [](std::string_view w) {
    std::string out(w);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
  };
  const auto first = upper(word);
  return first.starts_with("INSERT") || first.starts_with("UPDATE") || first.starts_with("DELETE");
}

class PgStatement final : public StatementImpl {
public:
  PgStatement(PgConnection& conn, const std::string& sql) : m_conn(conn), m_name(conn.next_statement_name())
  {
    m_sql = number_placeholders(without_index_hints(sql), m_names);
    m_writes = is_write(m_sql);
    m_plan = statement_plan(m_sql);
    m_params.resize(m_names.size());
    m_conn.ready();
    prepare_on_server();  // now, so that an error in the SQL shows where it is prepared
  }
  ~PgStatement() override
  {
    if (m_prepared_session) m_conn.release(m_name, m_prepared_session);
  }
  PgStatement(const PgStatement&) = delete;
  PgStatement& operator=(const PgStatement&) = delete;

  void bind_null(int i) override { param(i).kind = Param::Kind::null; }
  void bind_int64(int i, std::int64_t value) override
  {
    char text[24];
    own(i, std::string_view(text, std::to_chars(text, text + sizeof text, value).ptr), false);
  }
  void bind_double(int i, double value) override
  {
    // Shortest text that reads back as the same double: full precision.
    char text[32];
    own(i, std::string_view(text, std::to_chars(text, text + sizeof text, value).ptr), false);
  }
  void bind_text(int i, std::string_view value, bool copy) override
  {
    // PostgreSQL text holds no NUL and only valid UTF-8. Such bytes reach
    // text columns only from a stranger's request (a refused request's path,
    // say), which is still kept: with those bytes written \xNN, as centrali
    // shows them anyway, rather than refused or cut at the NUL.
    if (std::memchr(value.data(), 0, value.size()) || !is_valid_utf8(value)) {
      own(i, escape_unstorable(value), false);
      return;
    }
    // copy false comes from Statement::bind_no_copy(std::string), whose
    // buffer ends in the NUL libpq needs.
    if (copy) own(i, value, false);
    else borrow(i, value.data(), value.size(), false);
  }
  void bind_blob(int i, const void* data, std::size_t size, bool copy) override
  {
    if (size > INT_MAX) throw DatabaseError("a blob of more than 2 GB cannot be sent", StoreFault::none);
    if (!data) bind_null(i);  // as sqlite3_bind_blob does
    else if (copy) own(i, std::string_view(static_cast<const char*>(data), size), true);
    else borrow(i, static_cast<const char*>(data), size, true);
  }
  int parameter_index(const char* name) override
  {
    const auto it = std::ranges::find(m_names, std::string_view(name));
    if (it == m_names.end()) throw DatabaseError(std::string("no parameter ") + name, StoreFault::none);
    return static_cast<int>(it - m_names.begin()) + 1;
  }
  bool step() override
  {
    // Past the last row it runs again, as sqlite3_step does.
    if (!m_result || m_row >= PQntuples(m_result.get())) execute();
    ++m_row;
    std::fill(m_decoded_ready.begin(), m_decoded_ready.end(), false);
    return has_row();
  }
  int exec() override
  {
    execute();
    const auto changed = rows_changed(m_result.get()).value_or(0);
    m_result.reset();
    return static_cast<int>(changed);
  }
  void reset() noexcept override
  {
    m_result.reset();
    m_row = -1;
  }
  void clear_bindings() override
  {
    for (auto& p : m_params) p.kind = Param::Kind::null;
  }
  bool column_is_null(int c) const override { return !has_row() || PQgetisnull(m_result.get(), m_row, c); }
  std::int64_t column_int64(int c) const override { return to_int64(value(c)); }
  double column_double(int c) const override
  {
    // from_chars, not strtod: the same under any locale.
    const auto text = value(c);
    double number = 0;
    std::from_chars(text.data(), text.data() + text.size(), number);
    return number;
  }
  // A NULL reads as empty, as on SQLite (its text form is empty, not `\x`).
  std::string_view column_bytes(int c) const override
  {
    return is_bytea(c) && !column_is_null(c) ? std::string_view(decoded(c)) : value(c);
  }
  const char* column_text(int c) const override
  {
    return is_bytea(c) && !column_is_null(c) ? decoded(c).c_str() : value(c).data();
  }
  int column_count() const override { return m_result ? PQnfields(m_result.get()) : 0; }
  ColumnKind column_kind(int c) const override
  {
    if (column_is_null(c)) return ColumnKind::null;
    switch (PQftype(m_result.get(), c)) {
    case k_bool_oid:  // read as 0/1, as SQLite holds a flag
    case k_int2_oid:
    case k_int4_oid:
    case k_int8_oid: return ColumnKind::integer;
    case k_float4_oid:
    case k_float8_oid:
    case k_numeric_oid: return ColumnKind::real;
    case k_bytea_oid: return ColumnKind::blob;
    default: return ColumnKind::text;
    }
  }

private:
  Param& param(int i)
  {
    if (i < 1 || static_cast<std::size_t>(i) > m_params.size())
      throw DatabaseError("parameter " + std::to_string(i) + " is out of range", StoreFault::none);
    return m_params[static_cast<std::size_t>(i) - 1];
  }
  void own(int i, std::string_view value, bool binary)
  {
    auto& p = param(i);
    p.kind = Param::Kind::owned;
    p.copy.assign(value);
    p.binary = binary;
  }
  void borrow(int i, const char* data, std::size_t size, bool binary)
  {
    auto& p = param(i);
    p.kind = Param::Kind::borrowed;
    p.data = data;
    p.size = size;
    p.binary = binary;
  }
  void prepare_on_server()
  {
    m_conn.run([&] { return PQprepare(m_conn.handle(), m_name.c_str(), m_sql.c_str(), 0, nullptr); });
    m_prepared_session = m_conn.session();
  }
  void execute()
  {
    reset();
    m_conn.ready();
    if (m_prepared_session != m_conn.session()) prepare_on_server();
    const auto n = m_params.size();
    m_values.resize(n);
    m_lengths.resize(n);
    m_formats.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto& p = m_params[i];
      m_values[i] = p.kind == Param::Kind::null ? nullptr : p.kind == Param::Kind::owned ? p.copy.c_str() : p.data;
      m_lengths[i] = static_cast<int>(p.kind == Param::Kind::owned ? p.copy.size() : p.size);
      m_formats[i] = p.binary ? 1 : 0;
    }
    // A write outside any transaction still takes the store's write lock,
    // as SQLite's autocommit writes take its file lock: a writer's
    // transaction (fan-out reading past its cursor, say) then never sees a
    // row commit between two of its statements.
    const bool own_transaction = m_writes && !m_conn.in_transaction();
    if (own_transaction) m_conn.begin_write();
    try {
      if (m_plan == StatementPlan::on_the_rows) m_conn.plan_for_the_rows();
      m_result = m_conn.run([&] {
        return PQexecPrepared(m_conn.handle(), m_name.c_str(), static_cast<int>(n), m_values.data(), m_lengths.data(),
                              m_formats.data(), 0);
      });
      if (own_transaction) m_conn.exec("COMMIT");
    } catch (...) {
      if (own_transaction) {
        try {
          m_conn.exec("ROLLBACK");
        } catch (...) {
          // The statement's failure is the one worth reporting.
        }
      }
      throw;
    }
    if (m_plan == StatementPlan::rolls_back_to_savepoint) m_conn.rolled_back_to_savepoint();
    m_conn.note_changes(m_result.get());
    m_row = -1;
  }
  bool has_row() const { return m_result && m_row >= 0 && m_row < PQntuples(m_result.get()); }
  std::string_view value(int c) const
  {
    if (!has_row()) return "";
    return {PQgetvalue(m_result.get(), m_row, c), static_cast<std::size_t>(PQgetlength(m_result.get(), m_row, c))};
  }
  bool is_bytea(int c) const { return m_result && PQftype(m_result.get(), c) == k_bytea_oid; }
  // A blob's bytes, decoded once per row and kept until the next step.
  const std::string& decoded(int c) const
  {
    const auto i = static_cast<std::size_t>(c);
    if (i >= m_decoded.size()) {
      m_decoded.resize(i + 1);
      m_decoded_ready.resize(i + 1, false);
    }
    if (!m_decoded_ready[i]) {
      decode_bytea(value(c), m_decoded[i]);
      m_decoded_ready[i] = true;
    }
    return m_decoded[i];
  }

  PgConnection& m_conn;
  std::string m_name;
  std::string m_sql;
  bool m_writes = false;  // changes rows: takes the write lock when run outside a transaction
  StatementPlan m_plan = StatementPlan::on_the_rows;
  std::vector<std::string> m_names;
  std::uint64_t m_prepared_session = 0;  // 0: not prepared on any session
  std::vector<Param> m_params;
  std::vector<const char*> m_values;
  std::vector<int> m_lengths;
  std::vector<int> m_formats;
  PgResult m_result;
  int m_row = -1;
  mutable std::vector<std::string> m_decoded;
  mutable std::vector<bool> m_decoded_ready;
};

std::unique_ptr<StatementImpl> PgConnection::prepare(const std::string& sql)
{
  return std::make_unique<PgStatement>(*this, sql);
}

} // namespace

namespace {

// Opens a libpq session, or throws as connect() says.
PGconn* open_session(const std::string& url)
{
  // Defaults go before the URL (expanded where `dbname` stands), so the
  // URL's own values win; client_encoding goes after it: every string
  // centrali sends and reads is UTF-8.
  const char* keys[] = {"connect_timeout", "fallback_application_name", "dbname", "client_encoding", nullptr};
  const char* values[] = {"5", "centrali", url.c_str(), "UTF8", nullptr};
  // Twice at most: a server that refused while starting up ("the database
  // system is starting up") may answer the ping as ready a moment later;
  // only a refusal from a ready server is taken as final.
  for (int attempt = 1;; ++attempt) {
    PGconn* conn = PQconnectdbParams(keys, values, 1);
    if (!conn) throw DatabaseError("cannot reach the PostgreSQL server (out of memory)", StoreFault::broken);
    if (PQstatus(conn) == CONNECTION_OK) return conn;
    auto what = hide_password(reason(PQerrorMessage(conn)), url);
    PQfinish(conn);
    // A server that does not answer (down, starting, unreachable) may come
    // back; one that answered and refused (login, no such database) will not.
    const auto ping = PQpingParams(keys, values, 1);
    const bool gone = ping == PQPING_NO_RESPONSE || ping == PQPING_REJECT;
    if (!gone && attempt == 1) continue;
    throw DatabaseError("cannot reach the PostgreSQL server (" + what + ")",
                        gone ? StoreFault::unavailable : StoreFault::broken);
  }
}

class PgWorkListener final : public WorkWatch {
public:
  explicit PgWorkListener(std::string url) : m_url(std::move(url)) { start(); }
  ~PgWorkListener() override
  {
    if (m_conn) PQfinish(m_conn);
  }
  PgWorkListener(const PgWorkListener&) = delete;
  PgWorkListener& operator=(const PgWorkListener&) = delete;

  bool wait(std::chrono::milliseconds timeout) override
  {
    if (!m_conn || PQstatus(m_conn) != CONNECTION_OK) {
      try {
        if (m_conn) PQfinish(m_conn);
        m_conn = nullptr;
        start();
      } catch (const DatabaseError&) {
        // The server is out of reach: the caller's polls go on meanwhile.
        std::this_thread::sleep_for(timeout);
        return false;
      }
      return true;  // announcements made while it was gone were missed: look now
    }
    if (take()) return true;
    pollfd fd{PQsocket(m_conn), POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(timeout.count())) <= 0) return false;
    PQconsumeInput(m_conn);  // a failure shows as CONNECTION_BAD at the next call
    return take();
  }

private:
  void start()
  {
    m_conn = open_session(m_url);
    PQsetNoticeProcessor(m_conn, ignore_notice, nullptr);
    PgResult r(PQexec(m_conn, (std::string("LISTEN ") + k_work_channel).c_str()));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK)
      throw DatabaseError("cannot listen for work: " + hide_password(reason(PQerrorMessage(m_conn)), m_url),
                          StoreFault::broken);
  }
  // Takes every announcement already read: whether there was one.
  bool take()
  {
    bool any = false;
    while (PGnotify* n = PQnotifies(m_conn)) {
      any = true;
      PQfreemem(n);
    }
    return any;
  }

  std::string m_url;
  PGconn* m_conn = nullptr;
};

} // namespace

std::unique_ptr<Connection> connect(const std::string& url, Durability durability)
{
  auto connection = std::make_unique<PgConnection>(open_session(url), url, durability);
  connection->start_session();
  return connection;
}

std::unique_ptr<WorkWatch> listen_for_work(const std::string& url)
{
  return std::make_unique<PgWorkListener>(url);
}

} // namespace centrali::store::postgres
