// The scoreboard: a shared-memory region holding per-worker and per-core counters, status
// and timestamps, read by the master for the stats server, harakiri and recycling (uWSGI's
// `uwsgi.workers[]` / `cores[]` arrays in shared memory).
//
// Who writes what:
//  - a core record is written by the thread that owns that core's Server, with relaxed
//    atomic read-modify-writes, and read by anyone (the master, the stats snapshot). While a
//    worker is being replaced (recycling, graceful reload) the old and the new process serve
//    in the same slot for a moment: the counters are atomic adds so neither loses counts,
//    and the in-flight vars are claimed with a compare-and-swap so only one writes them;
//  - a worker record is written by the master (pid, last_spawn, respawn_count,
//    requests_base, harakiri_count, rss/vsz) and by the worker process itself (accepting,
//    rss/vsz when it measures itself). Each field has one writer at a time.
//
// The region is created by the master (memfd_create + ftruncate + mmap MAP_SHARED) and
// inherited by worker processes as an fd. Every field is a lock-free std::atomic of a fixed
// size, so the layout is the same in every process of one build; the header carries a magic
// number, a layout version and the sizes of the records so attaching a foreign or mismatched
// region fails instead of reading garbage.
//
// Layout (all offsets multiples of 64, one cache line or more per record):
//   [ScoreboardHeader][ScoreboardWorker × workers][ScoreboardCore × (workers × cores)]
// Core (w, c) is record w * cores + c.
#ifndef TSGI_SCOREBOARD_SCOREBOARD_H_
#define TSGI_SCOREBOARD_SCOREBOARD_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tsgi {

constexpr uint64_t kScoreboardMagic = 0x3142435349475354ull;  // "TSGISCB1" little-endian
// 2: per-core rx, request-duration histogram and response-status counts (docs/stats.md,
// "Prometheus metrics").
constexpr uint32_t kScoreboardVersion = 2;
// The in-flight request's vars, "KEY=VALUE\0" each, whole entries only.
constexpr size_t kScoreboardVarsSize = 4096;

// Upper bounds of the request-duration histogram in microseconds (Prometheus `le`, inclusive:
// a request of exactly 500 µs is in the first bucket); one more bucket holds the rest (+Inf).
// The bounds are Prometheus' usual latency buckets with 0.5 ms and 1 ms added below 5 ms,
// where a hello-world request lives.
constexpr uint64_t kScoreboardDurationBoundsUs[] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
constexpr size_t kScoreboardDurationBounds = sizeof(kScoreboardDurationBoundsUs) / sizeof(uint64_t);
constexpr size_t kScoreboardDurationBuckets = kScoreboardDurationBounds + 1;  // + the +Inf bucket
// Response status counts: one slot per code 100..599, then one for any other status.
constexpr uint32_t kScoreboardStatusMin = 100;
constexpr uint32_t kScoreboardStatusMax = 599;
constexpr size_t kScoreboardStatusOther = kScoreboardStatusMax - kScoreboardStatusMin + 1;
constexpr size_t kScoreboardStatusSlots = kScoreboardStatusOther + 1;

using AtomicU64 = std::atomic<uint64_t>;
static_assert(AtomicU64::is_always_lock_free,
              "scoreboard atomics must be lock-free to live in shared memory");

// Worker status bits (ScoreboardWorker::status). "busy" and "idle" are derived from the
// cores, as uWSGI does.
enum ScoreboardStatus : uint64_t {
  kWorkerCheap = 1,  // cheaped (no process in this slot on purpose)
  kWorkerPause = 2,  // paused
};

struct alignas(64) ScoreboardHeader {
  uint64_t magic;
  uint32_t version;
  uint32_t workers;
  uint32_t cores;  // per worker
  uint32_t header_size;
  uint32_t worker_size;
  uint32_t core_size;
  uint64_t total_size;
  uint64_t created;  // unix seconds
};

struct alignas(64) ScoreboardWorker {
  AtomicU64 pid;             // 0 when no process runs in the slot
  AtomicU64 accepting;       // 1 once the worker's Servers are accepting
  AtomicU64 status;          // ScoreboardStatus bits
  AtomicU64 last_spawn;      // unix seconds of the last (re)spawn
  AtomicU64 respawn_count;   // spawns of this slot (1 after the first)
  AtomicU64 harakiri_count;  // harakiri kills of this slot
  AtomicU64 requests_base;   // sum of the slot's core requests when the process spawned
  AtomicU64 rss;             // bytes, 0 unless memory reporting is on
  AtomicU64 vsz;             // bytes
  AtomicU64 signals;         // placeholder (uwsgi signals do not exist in tsgi)
};

struct alignas(64) ScoreboardCore {
  // Counters: cumulative over the slot's life (they survive a respawn, like uWSGI's).
  AtomicU64 requests;
  AtomicU64 tx;            // response bytes (head + body) of finished requests
  AtomicU64 running_time;  // microseconds spent in requests
  AtomicU64 avg_rt;        // microseconds, updated as (avg_rt + rt) / 2 per request
  AtomicU64 exceptions;
  AtomicU64 read_errors;
  AtomicU64 write_errors;
  AtomicU64 rx;  // request bytes read: the head as framed on the wire + the body payload
  // Finished requests by duration (not cumulative: bucket i holds durations in
  // (bound[i-1], bound[i]]; cumulated when read). Their sum is `running_time`.
  AtomicU64 duration_buckets[kScoreboardDurationBuckets];
  // Finished requests by the status the app answered (index status - 100, or
  // kScoreboardStatusOther); a request aborted before any status was sent is not counted.
  AtomicU64 status_counts[kScoreboardStatusSlots];
  // In-flight state.
  AtomicU64 inflight;          // requests handed to the app and not finished (in_request = inflight > 0)
  AtomicU64 request_start;     // unix seconds of the tracked request (0 = none)
  AtomicU64 request_start_ms;  // CLOCK_MONOTONIC ms of the tracked request (harakiri)
  AtomicU64 tracked;           // (pid << 32) | request id of the tracked request (0 = none)
  // Seqlock over `vars`: odd while the claimer rewrites them. Readers copy, then re-check.
  AtomicU64 vars_seq;
  AtomicU64 vars_len;
  char vars[kScoreboardVarsSize];
};

// A mapped region (creator or attacher). Plain data: copying it shares the mapping.
struct Scoreboard {
  void* base = nullptr;
  size_t size = 0;
  uint32_t workers = 0;
  uint32_t cores = 0;

  ScoreboardHeader* header() const { return static_cast<ScoreboardHeader*>(base); }
  ScoreboardWorker* worker(uint32_t w) const;
  ScoreboardCore* core(uint32_t w, uint32_t c) const;
};

size_t ScoreboardSize(uint32_t workers, uint32_t cores);
// Creates the region; returns the fd (not close-on-exec, so children can inherit it) or
// -errno. `out` maps it.
int ScoreboardCreate(uint32_t workers, uint32_t cores, Scoreboard* out);
// Maps an existing region by fd; returns 0 or -errno (EINVAL for a bad header).
int ScoreboardAttach(int fd, Scoreboard* out);
void ScoreboardUnmap(Scoreboard* sb);

// What a Server writes; null pointers mean "no scoreboard". Set through ServerOptions.
struct ScoreboardSlot {
  ScoreboardCore* core = nullptr;
  ScoreboardWorker* worker = nullptr;
  uint64_t owner = 0;  // this process's pid << 32: tags the requests it tracks
};

// --- hot path: a few relaxed atomic adds per request, no system call -------------------

// A request is handed to the app. `blob`/`meta`/`nvars` describe its vars (proto/vars.h:
// 4 offsets per var); they are copied only when no other request of the core is tracked.
void ScoreboardRequestStart(const ScoreboardSlot& slot, uint32_t id, uint64_t start_sec, uint64_t start_us,
                            const char* blob, const uint32_t* meta, size_t nvars);
// The request ended (response finished or aborted). `status` is the response status sent
// (0 when the request ended before any), `rx_bytes` what was read for it (ScoreboardCore::rx).
void ScoreboardRequestDone(const ScoreboardSlot& slot, uint32_t id, uint64_t rt_us, uint64_t tx_bytes,
                           uint64_t rx_bytes, uint32_t status);

// The histogram bucket of a duration: a compare chain from the smallest bound, so the
// common fast request costs one compare, the slowest 14.
inline size_t ScoreboardDurationBucket(uint64_t rt_us) {
  size_t i = 0;
  while (i < kScoreboardDurationBounds && rt_us > kScoreboardDurationBoundsUs[i]) i++;
  return i;
}

// The status_counts slot of a status code.
inline size_t ScoreboardStatusSlot(uint32_t status) {
  uint32_t off = status - kScoreboardStatusMin;  // wraps for status < 100
  return off <= kScoreboardStatusMax - kScoreboardStatusMin ? off : kScoreboardStatusOther;
}

inline void ScoreboardAdd(AtomicU64& field, uint64_t n) {
  field.fetch_add(n, std::memory_order_relaxed);
}

// Copies the vars of core `sc` as consistent bytes into `out` (capacity kScoreboardVarsSize);
// returns their length, 0 when none or when they changed during the copy (uWSGI also
// reports an empty list then).
size_t ScoreboardReadVars(const ScoreboardCore* sc, char* out);

uint64_t ScoreboardMonotonicMs();

}  // namespace tsgi

#endif  // TSGI_SCOREBOARD_SCOREBOARD_H_
