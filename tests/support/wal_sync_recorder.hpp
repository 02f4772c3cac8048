#pragma once
// Watches what SQLite does to its write-ahead logs: a VFS that passes every
// call on to the real one and notes, in order, each write to and each sync
// of a WAL file. While one is alive it is SQLite's default VFS, so every
// connection opened meanwhile (the store's writer included) goes through
// it. A test asks at the moment an answer is given whether the WAL frames
// written so far had reached the disk (fsync or fdatasync) by then, which
// is what "acknowledged only once durable" means; the disk is still the
// real one. Header-only; one alive at a time (unit tests run one by one).
#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>

namespace unit {

class WalSyncRecorder {
public:
  WalSyncRecorder()
  {
    m_real = sqlite3_vfs_find(nullptr);
    if (!m_real || instance()) throw std::runtime_error("WalSyncRecorder: no default VFS, or one recorder already");
    m_vfs = *m_real;
    m_vfs.pNext = nullptr;
    m_vfs.zName = "centrali-wal-sync-recorder";
    m_vfs.szOsFile = static_cast<int>(sizeof(File)) + m_real->szOsFile;
    m_vfs.pAppData = this;
    m_vfs.xOpen = &open;
    m_vfs.xDelete = [](sqlite3_vfs*, const char* name, int sync_dir) { return real()->xDelete(real(), name, sync_dir); };
    m_vfs.xAccess = [](sqlite3_vfs*, const char* name, int flags, int* out) {
      return real()->xAccess(real(), name, flags, out);
    };
    m_vfs.xFullPathname = [](sqlite3_vfs*, const char* name, int n, char* out) {
      return real()->xFullPathname(real(), name, n, out);
    };
    m_vfs.xDlOpen = [](sqlite3_vfs*, const char* name) { return real()->xDlOpen(real(), name); };
    m_vfs.xDlError = [](sqlite3_vfs*, int n, char* out) { real()->xDlError(real(), n, out); };
    m_vfs.xDlSym = [](sqlite3_vfs*, void* lib, const char* sym) { return real()->xDlSym(real(), lib, sym); };
    m_vfs.xDlClose = [](sqlite3_vfs*, void* lib) { real()->xDlClose(real(), lib); };
    m_vfs.xRandomness = [](sqlite3_vfs*, int n, char* out) { return real()->xRandomness(real(), n, out); };
    m_vfs.xSleep = [](sqlite3_vfs*, int us) { return real()->xSleep(real(), us); };
    m_vfs.xCurrentTime = [](sqlite3_vfs*, double* out) { return real()->xCurrentTime(real(), out); };
    m_vfs.xGetLastError = [](sqlite3_vfs*, int n, char* out) { return real()->xGetLastError(real(), n, out); };
    if (m_real->iVersion >= 2 && m_real->xCurrentTimeInt64)
      m_vfs.xCurrentTimeInt64 = [](sqlite3_vfs*, sqlite3_int64* out) { return real()->xCurrentTimeInt64(real(), out); };
    if (m_real->iVersion >= 3) {
      m_vfs.xSetSystemCall = [](sqlite3_vfs*, const char* name, sqlite3_syscall_ptr p) {
        return real()->xSetSystemCall(real(), name, p);
      };
      m_vfs.xGetSystemCall = [](sqlite3_vfs*, const char* name) { return real()->xGetSystemCall(real(), name); };
      m_vfs.xNextSystemCall = [](sqlite3_vfs*, const char* name) { return real()->xNextSystemCall(real(), name); };
    }
    instance() = this;
    if (sqlite3_vfs_register(&m_vfs, 1) != SQLITE_OK) {
      instance() = nullptr;
      throw std::runtime_error("WalSyncRecorder: cannot register the VFS");
    }
  }
  // Close every connection opened through it first.
  ~WalSyncRecorder()
  {
    sqlite3_vfs_unregister(&m_vfs);
    sqlite3_vfs_register(m_real, 1);  // the default again, as before
    instance() = nullptr;
  }
  WalSyncRecorder(const WalSyncRecorder&) = delete;
  WalSyncRecorder& operator=(const WalSyncRecorder&) = delete;

  std::uint64_t wal_writes() const { return m_wal_writes; }
  std::uint64_t wal_syncs() const { return m_wal_syncs; }
  // Whether every WAL frame written so far has been synced since: true
  // before any write.
  bool wal_synced_after_last_write() const { return m_last_wal_sync >= m_last_wal_write; }

private:
  struct File {
    sqlite3_file base;
    sqlite3_file* real;
    bool wal;
  };

  static WalSyncRecorder*& instance()
  {
    static WalSyncRecorder* current = nullptr;
    return current;
  }
  static sqlite3_vfs* real() { return instance()->m_real; }
  static sqlite3_file* inner(sqlite3_file* f) { return reinterpret_cast<File*>(f)->real; }

  void note_write(bool wal)
  {
    if (!wal) return;
    ++m_wal_writes;
    m_last_wal_write = ++m_clock;
  }
  void note_sync(bool wal)
  {
    if (!wal) return;
    ++m_wal_syncs;
    m_last_wal_sync = ++m_clock;
  }

  static int open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags)
  {
    auto* f = reinterpret_cast<File*>(file);
    f->real = reinterpret_cast<sqlite3_file*>(f + 1);
    f->wal = (flags & SQLITE_OPEN_WAL) != 0;
    f->real->pMethods = nullptr;
    int rc = real()->xOpen(real(), name, f->real, flags, out_flags);
    // SQLite calls xClose only when pMethods is set: mirror the real file.
    f->base.pMethods = f->real->pMethods ? &k_methods : nullptr;
    return rc;
  }

  static inline const sqlite3_io_methods k_methods = {
      3,
      [](sqlite3_file* f) { return inner(f)->pMethods->xClose(inner(f)); },
      [](sqlite3_file* f, void* buf, int n, sqlite3_int64 off) { return inner(f)->pMethods->xRead(inner(f), buf, n, off); },
      [](sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
        int rc = inner(f)->pMethods->xWrite(inner(f), buf, n, off);
        instance()->note_write(reinterpret_cast<File*>(f)->wal);
        return rc;
      },
      [](sqlite3_file* f, sqlite3_int64 size) { return inner(f)->pMethods->xTruncate(inner(f), size); },
      [](sqlite3_file* f, int flags) {
        int rc = inner(f)->pMethods->xSync(inner(f), flags);
        if (rc == SQLITE_OK) instance()->note_sync(reinterpret_cast<File*>(f)->wal);
        return rc;
      },
      [](sqlite3_file* f, sqlite3_int64* size) { return inner(f)->pMethods->xFileSize(inner(f), size); },
      [](sqlite3_file* f, int lock) { return inner(f)->pMethods->xLock(inner(f), lock); },
      [](sqlite3_file* f, int lock) { return inner(f)->pMethods->xUnlock(inner(f), lock); },
      [](sqlite3_file* f, int* out) { return inner(f)->pMethods->xCheckReservedLock(inner(f), out); },
      [](sqlite3_file* f, int op, void* arg) { return inner(f)->pMethods->xFileControl(inner(f), op, arg); },
      [](sqlite3_file* f) { return inner(f)->pMethods->xSectorSize(inner(f)); },
      [](sqlite3_file* f) { return inner(f)->pMethods->xDeviceCharacteristics(inner(f)); },
      [](sqlite3_file* f, int region, int size, int extend, void volatile** out) {
        auto* r = inner(f);
        return r->pMethods->iVersion >= 2 ? r->pMethods->xShmMap(r, region, size, extend, out) : SQLITE_IOERR;
      },
      [](sqlite3_file* f, int offset, int n, int flags) {
        auto* r = inner(f);
        return r->pMethods->iVersion >= 2 ? r->pMethods->xShmLock(r, offset, n, flags) : SQLITE_IOERR;
      },
      [](sqlite3_file* f) {
        auto* r = inner(f);
        if (r->pMethods->iVersion >= 2) r->pMethods->xShmBarrier(r);
      },
      [](sqlite3_file* f, int delete_flag) {
        auto* r = inner(f);
        return r->pMethods->iVersion >= 2 ? r->pMethods->xShmUnmap(r, delete_flag) : SQLITE_OK;
      },
      [](sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
        auto* r = inner(f);
        if (r->pMethods->iVersion >= 3) return r->pMethods->xFetch(r, off, n, out);
        *out = nullptr;  // no memory map: SQLite reads instead
        return SQLITE_OK;
      },
      [](sqlite3_file* f, sqlite3_int64 off, void* p) {
        auto* r = inner(f);
        return r->pMethods->iVersion >= 3 ? r->pMethods->xUnfetch(r, off, p) : SQLITE_OK;
      },
  };

  sqlite3_vfs* m_real = nullptr;
  sqlite3_vfs m_vfs{};
  // One clock orders writes and syncs from every thread.
  std::atomic<std::uint64_t> m_clock{0};
  std::atomic<std::uint64_t> m_wal_writes{0}, m_wal_syncs{0};
  std::atomic<std::uint64_t> m_last_wal_write{0}, m_last_wal_sync{0};
};

} // namespace unit
