// JS surface of the shared-memory scoreboard (scoreboard/scoreboard.h):
//   createScoreboard(workers, cores) -> {fd, handle}   (the master; fd is inheritable)
//   attachScoreboard(fd) -> handle                      (a worker process or thread)
//   scoreboardSnapshot(handle) -> {workers, cores, nowMs, ...} plain objects for the stats server
//   scoreboardResetWorker(handle, w)        before (re)spawning slot w
//   scoreboardWorkerSpawned(handle, w, pid) right after the spawn
//   scoreboardSetWorker(handle, w, fields)  accepting, status, rss, vsz, harakiriCount, ...
//   scoreboardCountException(handle, w, c)  for code that holds no Server
//   listenQueue(fd) -> {queue, maxQueue}    a listening TCP socket's accept queue (TCP_INFO)
// A handle is an External carrying the mapping; it is unmapped when the handle is collected,
// and a Server given a handle keeps it alive (server_wrap.cc).
#include "binding/scoreboard_wrap.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <cstring>
#include <string>

#include "binding/exports.h"

namespace tsgi {

namespace {

const napi_type_tag kScoreboardTag = {0x7473676973636f72ull, 0x65626f6172643031ull};

Napi::Value MakeHandle(Napi::Env env, const Scoreboard& sb) {
  Scoreboard* p = new Scoreboard(sb);
  Napi::External<Scoreboard> ext = Napi::External<Scoreboard>::New(env, p, [](Napi::Env, Scoreboard* s) {
    ScoreboardUnmap(s);
    delete s;
  });
  napi_type_tag_object(env, ext, &kScoreboardTag);
  return ext;
}

Scoreboard* FromHandle(Napi::Env env, Napi::Value v) {
  bool tagged = false;
  if (!v.IsExternal() || napi_check_object_type_tag(env, v, &kScoreboardTag, &tagged) != napi_ok || !tagged) {
    Napi::TypeError::New(env, "not a scoreboard handle").ThrowAsJavaScriptException();
    return nullptr;
  }
  return v.As<Napi::External<Scoreboard>>().Data();
}

bool IndexArg(const Napi::CallbackInfo& info, size_t i, uint32_t limit, const char* what, uint32_t* out) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    Napi::TypeError::New(info.Env(), std::string(what) + " must be a number").ThrowAsJavaScriptException();
    return false;
  }
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d >= limit || d != static_cast<double>(static_cast<uint32_t>(d))) {
    Napi::RangeError::New(info.Env(), std::string(what) + " out of range").ThrowAsJavaScriptException();
    return false;
  }
  *out = static_cast<uint32_t>(d);
  return true;
}

Napi::Error ErrnoError(Napi::Env env, const char* what, int err) {
  std::string msg = std::string(what) + ": " + strerror(err);
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, uv_err_name(-err))).Check();
  return e;
}

double Num(uint64_t v) {
  return static_cast<double>(v);
}
uint64_t Load(const AtomicU64& a) {
  return a.load(std::memory_order_relaxed);
}

Napi::Value CreateScoreboard(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t workers = 0, cores = 0;
  if (!IndexArg(info, 0, 65537, "workers", &workers) || !IndexArg(info, 1, 65537, "cores", &cores)) {
    return env.Undefined();
  }
  Scoreboard sb;
  int fd = ScoreboardCreate(workers, cores, &sb);
  if (fd < 0) {
    ErrnoError(env, "createScoreboard", -fd).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("fd", Napi::Number::New(env, fd)).Check();
  out.Set("size", Napi::Number::New(env, Num(sb.size))).Check();
  out.Set("handle", MakeHandle(env, sb)).Check();
  return out;
}

Napi::Value AttachScoreboard(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "attachScoreboard(fd)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Scoreboard sb;
  int r = ScoreboardAttach(info[0].As<Napi::Number>().Int32Value(), &sb);
  if (r < 0) {
    ErrnoError(
        env, r == -EINVAL ? "attachScoreboard: not a tsgi scoreboard of this build" : "attachScoreboard", -r)
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return MakeHandle(env, sb);
}

Napi::Array VarsArray(Napi::Env env, const ScoreboardCore* sc) {
  static thread_local char buf[kScoreboardVarsSize];
  size_t len = ScoreboardReadVars(sc, buf);
  Napi::Array arr = Napi::Array::New(env);
  uint32_t n = 0;
  size_t start = 0;
  for (size_t i = 0; i < len; i++) {
    if (buf[i] != '\0') continue;
    arr.Set(n++, Napi::String::New(env, buf + start, i - start)).Check();
    start = i + 1;
  }
  return arr;
}

// The duration histogram as stored (not cumulative), one number per bucket, +Inf last.
Napi::Array DurationBuckets(Napi::Env env, const ScoreboardCore* sc) {
  Napi::Array arr = Napi::Array::New(env, kScoreboardDurationBuckets);
  for (size_t i = 0; i < kScoreboardDurationBuckets; i++) {
    arr.Set(static_cast<uint32_t>(i), Num(Load(sc->duration_buckets[i]))).Check();
  }
  return arr;
}

// Status counts seen so far: {"200": n, ...} plus "other" for codes outside 100..599; codes
// never answered are left out, so the object stays small.
Napi::Object StatusCounts(Napi::Env env, const ScoreboardCore* sc) {
  Napi::Object o = Napi::Object::New(env);
  for (size_t i = 0; i < kScoreboardStatusSlots; i++) {
    uint64_t n = Load(sc->status_counts[i]);
    if (n == 0) continue;
    std::string key = i == kScoreboardStatusOther ? "other" : std::to_string(kScoreboardStatusMin + i);
    o.Set(key, Num(n)).Check();
  }
  return o;
}

Napi::Value Snapshot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Scoreboard* sb = FromHandle(env, info.Length() > 0 ? info[0] : env.Undefined());
  if (!sb) return env.Undefined();
  Napi::Object out = Napi::Object::New(env);
  out.Set("nowMs", Napi::Number::New(env, Num(ScoreboardMonotonicMs()))).Check();
  out.Set("created", Napi::Number::New(env, Num(sb->header()->created))).Check();
  Napi::Array bounds = Napi::Array::New(env, kScoreboardDurationBounds);
  for (size_t i = 0; i < kScoreboardDurationBounds; i++) {
    bounds.Set(static_cast<uint32_t>(i), Num(kScoreboardDurationBoundsUs[i])).Check();
  }
  out.Set("durationBoundsUs", bounds).Check();
  Napi::Array workers = Napi::Array::New(env, sb->workers);
  Napi::Array cores = Napi::Array::New(env, sb->workers);
  for (uint32_t w = 0; w < sb->workers; w++) {
    const ScoreboardWorker* sw = sb->worker(w);
    Napi::Object o = Napi::Object::New(env);
    o.Set("pid", Num(Load(sw->pid))).Check();
    o.Set("accepting", Num(Load(sw->accepting))).Check();
    o.Set("status", Num(Load(sw->status))).Check();
    o.Set("lastSpawn", Num(Load(sw->last_spawn))).Check();
    o.Set("respawnCount", Num(Load(sw->respawn_count))).Check();
    o.Set("harakiriCount", Num(Load(sw->harakiri_count))).Check();
    o.Set("requestsBase", Num(Load(sw->requests_base))).Check();
    o.Set("rss", Num(Load(sw->rss))).Check();
    o.Set("vsz", Num(Load(sw->vsz))).Check();
    o.Set("signals", Num(Load(sw->signals))).Check();
    workers.Set(w, o).Check();
    Napi::Array list = Napi::Array::New(env, sb->cores);
    for (uint32_t c = 0; c < sb->cores; c++) {
      const ScoreboardCore* sc = sb->core(w, c);
      Napi::Object k = Napi::Object::New(env);
      k.Set("requests", Num(Load(sc->requests))).Check();
      k.Set("tx", Num(Load(sc->tx))).Check();
      k.Set("runningTime", Num(Load(sc->running_time))).Check();
      k.Set("avgRt", Num(Load(sc->avg_rt))).Check();
      k.Set("exceptions", Num(Load(sc->exceptions))).Check();
      k.Set("readErrors", Num(Load(sc->read_errors))).Check();
      k.Set("writeErrors", Num(Load(sc->write_errors))).Check();
      k.Set("rx", Num(Load(sc->rx))).Check();
      k.Set("durationBuckets", DurationBuckets(env, sc)).Check();
      k.Set("statusCounts", StatusCounts(env, sc)).Check();
      uint64_t inflight = Load(sc->inflight);
      k.Set("inflight", Num(inflight)).Check();
      k.Set("inRequest", Num(inflight > 0 ? 1 : 0)).Check();
      k.Set("requestStart", Num(Load(sc->request_start))).Check();
      k.Set("requestStartMs", Num(Load(sc->request_start_ms))).Check();
      k.Set("vars", VarsArray(env, sc)).Check();
      list.Set(c, k).Check();
    }
    cores.Set(w, list).Check();
  }
  out.Set("workers", workers).Check();
  out.Set("cores", cores).Check();
  return out;
}

// Before (re)spawning slot w whose previous process is gone: its in-flight state is stale.
// Not for a replacement that overlaps a still-serving old process (recycling, graceful
// reload): that one just calls scoreboardWorkerSpawned.
// Counters stay (they are the slot's, like uWSGI's); delta_requests restarts from here.
Napi::Value ResetWorker(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Scoreboard* sb = FromHandle(env, info.Length() > 0 ? info[0] : env.Undefined());
  uint32_t w = 0;
  if (!sb || !IndexArg(info, 1, sb->workers, "worker index", &w)) return env.Undefined();
  ScoreboardWorker* sw = sb->worker(w);
  uint64_t total = 0;
  for (uint32_t c = 0; c < sb->cores; c++) {
    ScoreboardCore* sc = sb->core(w, c);
    total += Load(sc->requests);
    sc->inflight.store(0, std::memory_order_relaxed);
    sc->request_start.store(0, std::memory_order_relaxed);
    sc->request_start_ms.store(0, std::memory_order_relaxed);
    uint64_t seq = Load(sc->vars_seq);
    if (seq & 1) seq++;  // a writer died mid-update
    sc->vars_seq.store(seq + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    sc->vars_len.store(0, std::memory_order_relaxed);
    sc->vars_seq.store(seq + 2, std::memory_order_release);
    sc->tracked.store(0, std::memory_order_release);
  }
  sw->requests_base.store(total, std::memory_order_relaxed);
  sw->pid.store(0, std::memory_order_relaxed);
  sw->accepting.store(0, std::memory_order_relaxed);
  sw->rss.store(0, std::memory_order_relaxed);
  sw->vsz.store(0, std::memory_order_relaxed);
  return env.Undefined();
}

Napi::Value WorkerSpawned(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Scoreboard* sb = FromHandle(env, info.Length() > 0 ? info[0] : env.Undefined());
  uint32_t w = 0, pid = 0;
  if (!sb || !IndexArg(info, 1, sb->workers, "worker index", &w) ||
      !IndexArg(info, 2, 0xffffffffu, "pid", &pid)) {
    return env.Undefined();
  }
  ScoreboardWorker* sw = sb->worker(w);
  sw->pid.store(pid, std::memory_order_relaxed);
  sw->last_spawn.store(static_cast<uint64_t>(time(nullptr)), std::memory_order_relaxed);
  ScoreboardAdd(sw->respawn_count, 1);
  return env.Undefined();
}

Napi::Value SetWorker(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Scoreboard* sb = FromHandle(env, info.Length() > 0 ? info[0] : env.Undefined());
  uint32_t w = 0;
  if (!sb || !IndexArg(info, 1, sb->workers, "worker index", &w)) return env.Undefined();
  if (info.Length() < 3 || !info[2].IsObject()) {
    Napi::TypeError::New(env, "scoreboardSetWorker(handle, w, fields)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object f = info[2].As<Napi::Object>();
  ScoreboardWorker* sw = sb->worker(w);
  struct Field {
    const char* name;
    AtomicU64* slot;
  } fields[] = {{"pid", &sw->pid},
                {"accepting", &sw->accepting},
                {"status", &sw->status},
                {"lastSpawn", &sw->last_spawn},
                {"respawnCount", &sw->respawn_count},
                {"harakiriCount", &sw->harakiri_count},
                {"requestsBase", &sw->requests_base},
                {"rss", &sw->rss},
                {"vsz", &sw->vsz},
                {"signals", &sw->signals}};
  for (const Field& fd : fields) {
    Napi::Value v = f.Get(fd.name).Unwrap();
    if (v.IsNumber()) {
      double d = v.As<Napi::Number>().DoubleValue();
      fd.slot->store(d > 0 ? static_cast<uint64_t>(d) : 0, std::memory_order_relaxed);
    }
  }
  return env.Undefined();
}

Napi::Value CountException(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Scoreboard* sb = FromHandle(env, info.Length() > 0 ? info[0] : env.Undefined());
  uint32_t w = 0, c = 0;
  if (!sb || !IndexArg(info, 1, sb->workers, "worker index", &w) ||
      !IndexArg(info, 2, sb->cores, "core index", &c)) {
    return env.Undefined();
  }
  ScoreboardCore* sc = sb->core(w, c);
  sc->exceptions.fetch_add(1, std::memory_order_relaxed);
  return env.Undefined();
}

// On a listening TCP socket Linux reports the accept queue in tcpi_unacked and the backlog
// in tcpi_sacked (what uWSGI's stats read). UNIX sockets (and failures) give 0, 0.
Napi::Value ListenQueue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t queue = 0, max_queue = 0;
  if (info.Length() > 0 && info[0].IsNumber()) {
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    std::memset(&ti, 0, sizeof ti);
    if (getsockopt(info[0].As<Napi::Number>().Int32Value(), IPPROTO_TCP, TCP_INFO, &ti, &len) == 0) {
      queue = ti.tcpi_unacked;
      max_queue = ti.tcpi_sacked;
    }
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("queue", Num(queue)).Check();
  out.Set("maxQueue", Num(max_queue)).Check();
  return out;
}

}  // namespace

bool ScoreboardSlotFromJs(Napi::Env env, Napi::Value handle, uint32_t worker, uint32_t core,
                          ScoreboardSlot* out) {
  Scoreboard* sb = FromHandle(env, handle);
  if (!sb) return false;
  if (worker >= sb->workers || core >= sb->cores) {
    Napi::RangeError::New(env, "scoreboard workerIndex/coreIndex out of range").ThrowAsJavaScriptException();
    return false;
  }
  out->worker = sb->worker(worker);
  out->core = sb->core(worker, core);
  out->owner = static_cast<uint64_t>(getpid()) << 32;
  return true;
}

void RegisterScoreboard(Napi::Env env, Napi::Object exports) {
  exports.Set("createScoreboard", Napi::Function::New(env, CreateScoreboard)).Check();
  exports.Set("attachScoreboard", Napi::Function::New(env, AttachScoreboard)).Check();
  exports.Set("scoreboardSnapshot", Napi::Function::New(env, Snapshot)).Check();
  exports.Set("scoreboardResetWorker", Napi::Function::New(env, ResetWorker)).Check();
  exports.Set("scoreboardWorkerSpawned", Napi::Function::New(env, WorkerSpawned)).Check();
  exports.Set("scoreboardSetWorker", Napi::Function::New(env, SetWorker)).Check();
  exports.Set("scoreboardCountException", Napi::Function::New(env, CountException)).Check();
  exports.Set("listenQueue", Napi::Function::New(env, ListenQueue)).Check();
}

}  // namespace tsgi
