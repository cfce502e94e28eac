// Shared-memory scoreboard: creation, attachment and the two hot-path updates a Server makes
// per request (scoreboard.h describes the layout and who writes what).
#include "scoreboard/scoreboard.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <new>

namespace tsgi {

namespace {

size_t RoundUp(size_t n, size_t to) {
  return (n + to - 1) / to * to;
}

int MemfdCreate(const char* name) {
#ifdef SYS_memfd_create
  // MFD_CLOEXEC is deliberately not set: worker processes inherit the fd.
  return static_cast<int>(syscall(SYS_memfd_create, name, 0));
#else
  errno = ENOSYS;
  return -1;
#endif
}

}  // namespace

size_t ScoreboardSize(uint32_t workers, uint32_t cores) {
  return sizeof(ScoreboardHeader) + sizeof(ScoreboardWorker) * workers +
         sizeof(ScoreboardCore) * static_cast<size_t>(workers) * cores;
}

ScoreboardWorker* Scoreboard::worker(uint32_t w) const {
  char* p = static_cast<char*>(base) + sizeof(ScoreboardHeader);
  return reinterpret_cast<ScoreboardWorker*>(p) + w;
}

ScoreboardCore* Scoreboard::core(uint32_t w, uint32_t c) const {
  char* p = static_cast<char*>(base) + sizeof(ScoreboardHeader) + sizeof(ScoreboardWorker) * workers;
  return reinterpret_cast<ScoreboardCore*>(p) + (static_cast<size_t>(w) * cores + c);
}

int ScoreboardCreate(uint32_t workers, uint32_t cores, Scoreboard* out) {
  if (workers == 0 || cores == 0 || workers > 65536 || cores > 65536) return -EINVAL;
  size_t size = RoundUp(ScoreboardSize(workers, cores), 4096);
  int fd = MemfdCreate("tsgi-scoreboard");
  if (fd < 0) return -errno;
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    int e = errno;
    close(fd);
    return -e;
  }
  // ftruncate zero-fills; constructing the atomics in place keeps the object model honest
  // (a zero bit pattern is a zero atomic on every platform we build for).
  ScoreboardHeader* h = new (base) ScoreboardHeader();
  h->magic = kScoreboardMagic;
  h->version = kScoreboardVersion;
  h->workers = workers;
  h->cores = cores;
  h->header_size = sizeof(ScoreboardHeader);
  h->worker_size = sizeof(ScoreboardWorker);
  h->core_size = sizeof(ScoreboardCore);
  h->total_size = size;
  h->created = static_cast<uint64_t>(time(nullptr));
  out->base = base;
  out->size = size;
  out->workers = workers;
  out->cores = cores;
  for (uint32_t w = 0; w < workers; w++) {
    new (out->worker(w)) ScoreboardWorker();
    for (uint32_t c = 0; c < cores; c++) new (out->core(w, c)) ScoreboardCore();
  }
  return fd;
}

int ScoreboardAttach(int fd, Scoreboard* out) {
  struct stat st;
  if (fstat(fd, &st) != 0) return -errno;
  if (static_cast<size_t>(st.st_size) < sizeof(ScoreboardHeader)) return -EINVAL;
  size_t size = static_cast<size_t>(st.st_size);
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) return -errno;
  const ScoreboardHeader* h = static_cast<const ScoreboardHeader*>(base);
  bool ok = h->magic == kScoreboardMagic && h->version == kScoreboardVersion &&
            h->header_size == sizeof(ScoreboardHeader) && h->worker_size == sizeof(ScoreboardWorker) &&
            h->core_size == sizeof(ScoreboardCore) && h->workers > 0 && h->cores > 0 &&
            h->total_size == size && ScoreboardSize(h->workers, h->cores) <= size;
  if (!ok) {
    munmap(base, size);
    return -EINVAL;
  }
  out->base = base;
  out->size = size;
  out->workers = h->workers;
  out->cores = h->cores;
  return 0;
}

void ScoreboardUnmap(Scoreboard* sb) {
  if (sb->base) munmap(sb->base, sb->size);
  sb->base = nullptr;
  sb->size = 0;
}

uint64_t ScoreboardMonotonicMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

namespace {

void WriteVars(ScoreboardCore* sc, const char* blob, const uint32_t* meta, size_t nvars) {
  uint64_t seq = sc->vars_seq.load(std::memory_order_relaxed);
  sc->vars_seq.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  size_t len = 0;
  for (size_t i = 0; i < nvars; i++) {
    const uint32_t* m = meta + i * 4;
    size_t klen = m[1] - m[0], vlen = m[3] - m[2];
    if (len + klen + vlen + 2 > kScoreboardVarsSize) break;  // whole entries only
    std::memcpy(sc->vars + len, blob + m[0], klen);
    len += klen;
    sc->vars[len++] = '=';
    std::memcpy(sc->vars + len, blob + m[2], vlen);
    len += vlen;
    sc->vars[len++] = '\0';
  }
  sc->vars_len.store(len, std::memory_order_relaxed);
  sc->vars_seq.store(seq + 2, std::memory_order_release);
}

}  // namespace

void ScoreboardRequestStart(const ScoreboardSlot& slot, uint32_t id, uint64_t start_sec, uint64_t start_us,
                            const char* blob, const uint32_t* meta, size_t nvars) {
  ScoreboardCore* sc = slot.core;
  sc->inflight.fetch_add(1, std::memory_order_relaxed);
  // With --async N a core holds several requests: the first one dispatched while none is
  // tracked is the one whose vars and start time the stats show (docs/stats.md).
  uint64_t expected = 0;
  if (!sc->tracked.compare_exchange_strong(expected, slot.owner | id, std::memory_order_acquire,
                                           std::memory_order_relaxed)) {
    return;
  }
  sc->request_start.store(start_sec, std::memory_order_relaxed);
  sc->request_start_ms.store(start_us / 1000u, std::memory_order_relaxed);
  WriteVars(sc, blob, meta, nvars);
}

void ScoreboardRequestDone(const ScoreboardSlot& slot, uint32_t id, uint64_t rt_us, uint64_t tx_bytes,
                           uint64_t rx_bytes, uint32_t status) {
  ScoreboardCore* sc = slot.core;
  sc->requests.fetch_add(1, std::memory_order_relaxed);
  sc->tx.fetch_add(tx_bytes, std::memory_order_relaxed);
  sc->rx.fetch_add(rx_bytes, std::memory_order_relaxed);
  sc->running_time.fetch_add(rt_us, std::memory_order_relaxed);
  sc->duration_buckets[ScoreboardDurationBucket(rt_us)].fetch_add(1, std::memory_order_relaxed);
  if (status != 0) sc->status_counts[ScoreboardStatusSlot(status)].fetch_add(1, std::memory_order_relaxed);
  sc->avg_rt.store((sc->avg_rt.load(std::memory_order_relaxed) + rt_us) / 2, std::memory_order_relaxed);
  // Never below zero, even after the master reset the slot under a live process.
  uint64_t n = sc->inflight.load(std::memory_order_relaxed);
  while (n > 0 && !sc->inflight.compare_exchange_weak(n, n - 1, std::memory_order_relaxed)) {
  }
  if (sc->tracked.load(std::memory_order_relaxed) == (slot.owner | id)) {
    sc->request_start.store(0, std::memory_order_relaxed);
    sc->request_start_ms.store(0, std::memory_order_relaxed);
    uint64_t seq = sc->vars_seq.load(std::memory_order_relaxed);
    sc->vars_seq.store(seq + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    sc->vars_len.store(0, std::memory_order_relaxed);
    sc->vars_seq.store(seq + 2, std::memory_order_release);
    sc->tracked.store(0, std::memory_order_release);  // last: the next claimer writes after us
  }
}

size_t ScoreboardReadVars(const ScoreboardCore* sc, char* out) {
  uint64_t seq = sc->vars_seq.load(std::memory_order_acquire);
  if (seq & 1) return 0;
  size_t len = static_cast<size_t>(sc->vars_len.load(std::memory_order_relaxed));
  if (len > kScoreboardVarsSize) return 0;
  std::memcpy(out, sc->vars, len);
  std::atomic_thread_fence(std::memory_order_acquire);
  if (sc->vars_seq.load(std::memory_order_relaxed) != seq) return 0;
  return len;
}

}  // namespace tsgi
