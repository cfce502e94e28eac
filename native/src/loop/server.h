// The per-thread network core: accept loop, connections, timeouts and response writing on
// the libuv loop of the JS thread that owns the Server (docs/threads.md, "How a request is served":
// every serving thread runs its own accept loop on the shared listening fds, so a request
// never crosses a thread between the socket and the app).
//
// Threading invariant: a Server and all its Connections are touched only by the thread
// whose uv_loop_t they were created on. Nothing here is synchronised.
//
// Re-entrancy invariant: methods called from JS (Respond, Write, End, ...) never call back
// into the RequestSink synchronously. Work that would (dispatching the next pipelined
// request, reporting a write error) is queued on `deferred_` and runs from a uv_idle
// callback inside its own batch.
#ifndef TSGI_LOOP_SERVER_H_
#define TSGI_LOOP_SERVER_H_

#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/errors.h"
#include "common/listener_spec.h"
#include "loop/conn_list.h"
#include "loop/harakiri.h"
#include "loop/request_log.h"
#include "loop/shapes.h"
#include "scoreboard/scoreboard.h"

namespace tsgi {

struct ServerOptions {
  size_t buffer_size = 8192;          // --buffer-size: max request head / uwsgi vars block
  uint64_t limit_post = 0;            // --limit-post, 0 = unlimited
  uint64_t socket_timeout_ms = 4000;  // --socket-timeout: stalled head, body or write
  // --http-keepalive-timeout; 0 = close after each response. No default here: the binding
  // requires the value, whose one default lives with the option (src/config/options.ts).
  uint64_t keepalive_timeout_ms = 0;
  // --post-buffering: a request body up to this many bytes is read before the app is called
  // (and a longer one's first bytes), so a client that drips its body holds no app slot.
  // Off here; the CLI's default lives with the option (src/config/options.ts).
  uint64_t post_buffering = 0;
  // --min-body-rate: bytes per second a request body must average once socket-timeout has
  // passed since it started; 0 = no minimum (the CLI's default: src/config/options.ts).
  uint64_t min_body_rate = 0;
  // --max-connections: open connections of this Server; at the cap the oldest idle
  // keep-alive connection is closed for a new one, or accepting waits. 0 = no cap.
  uint32_t max_connections = 0;
  uint32_t max_inflight = 1;  // requests handed to the app at once; 0 = unlimited
  size_t max_vars = 256;      // uwsgi vars per packet, HTTP vars per request
  bool logging = true;
  bool log_micros = false;
  LogFormat log_format;         // --log-format, compiled by the CLI; empty items = uWSGI's line
  bool log_date = false;        // --log-date
  std::string log_date_format;  // its strftime format; "" = uWSGI's default
  uint32_t worker_id = 1;
  // Conditions that log a request even with logging off (uWSGI's log_request in
  // core/logging.c: --log-4xx, --log-5xx, --log-slow MS, --log-big BYTES, --log-zero).
  struct LogWhen {
    bool status_4xx = false;
    bool status_5xx = false;
    bool zero = false;
    uint64_t slow_ms = 0;    // 0 = off
    uint64_t big_bytes = 0;  // 0 = off
  } log_when;
  int log_fd = 2;
  int core_id = 0;
  // Where this Server's per-core counters and the worker's `accepting` live in the shared
  // scoreboard (scoreboard/scoreboard.h); null pointers when there is none.
  ScoreboardSlot scoreboard;
  uint64_t harakiri_ms = 0;  // --harakiri; 0 = off
  uint64_t thread_id = 0;    // worker_threads.threadId of the serving thread (0 = main)
  // node:http apps: HTTP requests also carry their raw header lines (kReqRawHeaders,
  // proto/vars.h AppendRawHeaders). Off for every other app kind, which pays nothing.
  bool raw_headers = false;
  // A node:http app with 'checkContinue' listeners decides on `Expect: 100-continue` itself:
  // the core then sends no interim 100 (kReqExpectContinue tells the app layer), and
  // WriteContinue sends it when the app calls res.writeContinue().
  bool continue_by_app = false;
  // A request body with a Content-Length up to this many bytes that is not all here at
  // dispatch goes to the app in one buffer of its length, filled in place as it arrives
  // (WholeBody); 0 = every body streams as copied chunks (node:http apps, whose streams
  // take chunks). Never more than a streamed body may hold in the app layer at once.
  size_t whole_body_max = 0;
};

// A request body the sink allocated whole (a JS-owned buffer of the body's length): native
// writes data[filled, size) as bytes arrive, on the Server's thread, and says how far it got
// with OnBodyFilled. `handle` keeps the buffer alive until ReleaseWholeBody; native never
// touches `data` after that. The app layer hands the app neither the buffer nor a view of
// it before the body is complete, so nothing can detach or transfer it while it is written.
struct WholeBody {
  void* handle = nullptr;  // the sink's; null when no buffer is held
  char* data = nullptr;
  size_t size = 0;
  size_t filled = 0;
};

// --max-connections 0: three quarters of the open-files limit, shared by the process's
// serving threads (the rest is left for listeners, the app's own files and sockets), and
// never fewer than 16.
uint32_t DefaultMaxConnections(uint32_t serving_threads);

// What the Server calls; implemented by the N-API wrapper (binding/server_wrap.cc).
// Every call happens between BeginBatch() and EndBatch() on the owning thread.
class RequestSink {
 public:
  virtual ~RequestSink() = default;
  virtual void BeginBatch() = 0;
  virtual void EndBatch() = 0;
  // Runs the JS work queued so far (microtasks, nextTicks) now. Called only at the end of a
  // libuv callback of ours (never under a JS call) that dispatched a request and left every
  // app slot taken: a promise-based app answers in a microtask, and settling then frees the
  // slot for the next ready connection of the same poll pass instead of one loop turn later.
  // Worker threads already close their scope per callback, which does the same.
  virtual void Settle() {}
  // Runs the JS work queued so far now, at the end of one of our timer or idle callbacks.
  // Those run before the poll phase, and the uv_check that otherwise ends a batch's scope
  // runs only once poll returns: with no other timer pending that can be seconds later (a
  // stopping worker's "closed" promise would wait for the next connection).
  virtual void FlushQueuedJs() {}
  // blob holds every var; meta (see MetaBuffer) holds 4 offsets per var.
  // Allocates whole->size bytes, copies body[0, body_len) to their start and sets
  // handle/data/filled; false (handle left null) when it cannot, and the body then streams
  // through OnData as usual. Calls no JS.
  virtual bool AllocWholeBody(WholeBody* whole, const char* body, size_t body_len) = 0;
  // With `whole`, the body argument is its buffer instead of `body`: the first `filled`
  // bytes of it with kReqBodyWhole, all of it with kReqBodyDone.
  virtual void OnRequest(uint32_t id, uint32_t flags, const std::string& blob, size_t nvars, const char* body,
                         size_t body_len, const WholeBody* whole) = 0;
  // The whole body of request `id` now holds `filled` bytes; filled == size ends it.
  virtual void OnBodyFilled(uint32_t id, size_t filled) = 0;
  virtual void ReleaseWholeBody(WholeBody* whole) = 0;
  // data != nullptr: body bytes; data == nullptr: end of body (err OK) or body error.
  virtual void OnData(uint32_t id, const char* data, size_t len, ErrorCode err) = 0;
  virtual void OnDrain(uint32_t id) = 0;
  virtual void OnAbort(uint32_t id, ErrorCode err) = 0;
  virtual void OnClosed() = 0;
};

// Bits of the flags passed to OnRequest (mirrored in src/native/types.ts RequestFlags).
enum RequestFlag : uint32_t {
  kReqBodyDone = 1,
  kReqHead = 2,
  kReqUwsgi = 4,
  kReqKeepAlive = 8,
  kReqChunked = 16,
  // The raw header lines follow the vars in meta (ServerOptions::raw_headers); their count
  // is in bits 8..15, which only uwsgi requests use otherwise.
  kReqRawHeaders = 32,
  // "Expect: 100-continue" left to the app (ServerOptions::continue_by_app): no 100 sent yet.
  kReqExpectContinue = 64,
  // The body goes to the app whole (ServerOptions::whole_body_max): the body argument is a
  // buffer of the Content-Length, of which the first `filled` bytes are here; the rest is
  // told with OnBodyFilled.
  kReqBodyWhole = 128,
  // bits 8..15: uwsgi modifier1 (or the raw header count); bits 16..31: shape id of the
  // var names (loop/shapes.h)
};
constexpr uint32_t kReqRawCountShift = 8;
constexpr uint32_t kReqShapeShift = 16;

// Bits of the flags passed with a response head (src/native/types.ts ResponseFlags).
enum ResponseFlag : uint32_t {
  kRespHasContentLength = 1,
  kRespConnectionClose = 2,
  kRespHasTransferEncoding = 4,
};

struct Connection;

class Server {
 public:
  Server(uv_loop_t* loop, const ServerOptions& opts, std::vector<ListenerSpec> listeners, RequestSink* sink,
         uint32_t* meta, size_t meta_len);
  ~Server();

  // Starts polling the listening fds.
  void Start();
  // Graceful stop: stop accepting, take the connections already queued and close the
  // listening descriptors (with `give_up`, other descriptors of the same sockets that the
  // caller hands over), close idle connections, let in-flight requests finish;
  // RequestSink::OnClosed fires once every connection is gone.
  void Stop(const std::vector<int>& give_up = {});
  // Closes every handle now (env teardown). In-flight requests are dropped.
  void Destroy();

  // Response API (called from JS). Return false when `id` is no longer live.
  bool Respond(uint32_t id, const char* status, size_t status_len, const char* headers, size_t headers_len,
               uint32_t flags, const char* body, size_t body_len);
  bool WriteHead(uint32_t id, const char* status, size_t status_len, const char* headers, size_t headers_len,
                 uint32_t flags);
  // Returns 1 when more may be written, 0 when the caller should wait for OnDrain, -1 when
  // the id is not live.
  int Write(uint32_t id, const char* data, size_t len);
  // `trailers`: "Name: value\r\n" lines sent after the last chunk of a chunked response
  // (dropped for other framings, see ResponseFinish).
  bool End(uint32_t id, const char* data, size_t len, const char* trailers = nullptr,
           size_t trailers_len = 0);
  // Sends "HTTP/1.1 100 Continue" for a request whose 100 was left to the app (only once,
  // before the response head). Returns false otherwise.
  bool WriteContinue(uint32_t id);
  bool Abort(uint32_t id);
  bool PauseInput(uint32_t id);
  bool ResumeInput(uint32_t id);
  void Log(const char* line, size_t len);

  struct Counters {
    uint64_t requests = 0;      // requests completed (response ended or aborted)
    uint64_t tx = 0;            // bytes written to clients
    uint64_t bad_requests = 0;  // requests refused by the parsers or limits
    uint64_t connections = 0;   // connections accepted
    uint32_t inflight = 0;      // requests handed to the app and not finished
    uint32_t open = 0;          // open connections
  };
  const Counters& counters() const { return counters_; }

  // --- used by Connection (loop/connection.cc, loop/response.cc) ---
  uv_loop_t* loop() const { return loop_; }
  const ServerOptions& opts() const { return opts_; }
  RequestSink* sink() const { return sink_; }
  uint32_t* meta() const { return meta_; }
  size_t meta_capacity() const { return meta_len_ / 4; }
  char* read_buffer() { return read_buf_.data(); }
  size_t read_buffer_size() const { return read_buf_.size(); }
  std::string& blob() { return blob_; }
  RequestLog& log() { return log_; }
  ShapeTable& shapes() { return shapes_; }
  HarakiriBoard* harakiri() { return harakiri_.get(); }
  Counters& mutable_counters() { return counters_; }
  ConnList& read_timeouts() { return read_timeouts_; }
  ConnList& idle_timeouts() { return idle_timeouts_; }
  ConnList& write_timeouts() { return write_timeouts_; }
  bool stopping() const { return stopping_; }
  bool destroying() const { return destroyed_; }
  // True while a JS call (Respond, Write, ...) is on the stack: see the re-entrancy
  // invariant at the top of this file.
  bool in_js_call() const { return in_js_call_ > 0; }
  // A request went to the app: the JS work it queued (a promise's answer) is settled before
  // the read pass ends (SettleDispatched), or at the latest when the callback ends.
  void DispatchedRequest() { settle_wanted_ = true; }
  // A body ended: an app awaiting it whole answers in a microtask, settled the same way.
  void BodyEnded() { settle_wanted_ = true; }
  void SettleDispatched() {
    if (!settle_wanted_ || in_js_call_ != 0 || destroyed_) return;
    settle_wanted_ = false;
    sink_->Settle();
  }
  bool slots_full() const {
    return opts_.max_inflight != 0 && counters_.inflight + reserved_ >= opts_.max_inflight;
  }
  bool in_batch() const { return batch_depth_ > 0; }

  uint32_t RegisterRequest(Connection* c);
  void UnregisterRequest(uint32_t id);
  // Called when a request may be dispatched; returns false when the app cores are full,
  // after queueing `c` to be dispatched later.
  bool AcquireSlot(Connection* c);
  void ReleaseSlot();
  void SlotReservationUsed();
  void Defer(Connection* c);
  void OnConnectionClosed(Connection* c);
  // Brackets every libuv callback: opens the sink's JS scopes; at the end adjusts
  // accepting to the free app slots and flushes the log.
  void StartBatch();
  void FinishBatch();
  void UpdateAccepting();
  // A closed connection that never had a poll handle: freed at the end of the batch, when
  // no caller up the stack can still hold it.
  void Bury(Connection* c);

 private:
  static void OnListenerReadable(uv_poll_t* handle, int status, int events);
  static void OnTimer(uv_timer_t* handle);
  static void OnIdle(uv_idle_t* handle);
  void Accept(size_t listener_index, int limit);
  bool MayAccept() const;
  bool AtConnectionCap() const;
  bool CloseOldestIdle();
  void OnDescriptorsExhausted(int err);
  void RunAcceptTurn();
  void ExpireTimeouts();
  void ArmTimer();
  Connection* Adopt(int fd, const sockaddr_storage& ss, const ListenerSpec& l);
  void CloseListeners(const std::vector<int>& give_up);
  void RunDeferred();
  void PauseAccepting();
  void ResumeAccepting();
  void MaybeFinishStop();
  void GrantWaiting();
  void FreeClosed();
  Connection* Find(uint32_t id);

  uv_loop_t* loop_;
  ServerOptions opts_;
  std::vector<ListenerSpec> listeners_;  // fds: duplicates owned by this Server (Start)
  std::vector<bool> owned_fds_;
  std::vector<uv_poll_t*> listener_polls_;
  RequestSink* sink_;
  uint32_t* meta_;
  size_t meta_len_;
  std::vector<char> read_buf_;
  std::string blob_;
  RequestLog log_;
  ShapeTable shapes_;
  std::unique_ptr<HarakiriBoard> harakiri_;  // only with --harakiri
  Counters counters_;
  std::unordered_map<uint32_t, Connection*> requests_;
  uint32_t next_id_ = 1;
  uint32_t reserved_ = 0;  // slots granted to waiting connections, not yet dispatched
  ConnList read_timeouts_, idle_timeouts_, write_timeouts_;
  std::vector<Connection*> waiting_;   // heads parsed, waiting for a free app slot (FIFO)
  std::vector<Connection*> deferred_;  // connections with work queued by JS calls
  std::vector<Connection*> all_;       // every open connection (for Stop/Destroy)
  std::vector<Connection*> closed_;    // closed, poll-less connections awaiting delete
  uv_timer_t* timer_ = nullptr;
  uv_idle_t* idle_ = nullptr;
  bool accepting_ = false;
  bool stopping_ = false;
  bool destroyed_ = false;
  bool closed_notified_ = false;
  bool in_deferred_ = false;
  bool stop_notify_pending_ = false;  // OnClosed is due at the next idle callback
  int in_js_call_ = 0;
  int batch_depth_ = 0;
  bool settle_wanted_ = false;        // a dispatch since the last Settle (see FinishBatch)
  bool fd_exhausted_ = false;         // accept() hit EMFILE/ENFILE; retried at the next tick or close
  uint64_t fd_failures_ = 0;          // such failures since the last log line
  uint64_t fd_logged_ms_ = 0;         // loop time of that line (0: never)
  uint32_t grants_ = 0;               // slots granted to waiting connections (GrantWaiting)
  bool accept_turn_pending_ = false;  // a slot is held for the backlog's turn
  friend struct JsCallGuard;
};

}  // namespace tsgi

#endif  // TSGI_LOOP_SERVER_H_
