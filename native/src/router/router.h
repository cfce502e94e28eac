// The HTTP router (--http): a native HTTP/1.1 front that parses each client request with the
// same strict parser as --http-socket, turns it into a uwsgi packet (the vars nginx's stock
// uwsgi_params would send) and forwards it over a new connection to the worker socket, then
// relays the worker's response back (docs/router.md; uWSGI's plugins/http/http.c).
//
// It runs on a thread of the master, with a libuv loop of its own (router/router_thread.h),
// and is left alone by graceful reloads: the worker socket stays bound in the master while
// workers are replaced, so connections the router opens during a reload wait in its backlog
// and are served by the new workers (docs/router.md, "Processes and threads": uWSGI kills
// its router on reload).
//
// Where tsgi differs from uWSGI's router (docs/router.md): keep-alive towards clients is on
// by default, close-delimited worker responses are re-framed as chunked to keep it,
// REMOTE_PORT is in host byte order, and failures get a status (502 when the worker cannot
// be reached or closes without answering, 504 when it does not answer within http-timeout)
// instead of a silently closed connection.
//
// Threading invariant: a Router and its sessions live on the one libuv loop given to its
// constructor and are only ever touched from the thread that runs that loop; nothing here
// is synchronised (RouterThread publishes what other threads may read).
#ifndef TSGI_ROUTER_ROUTER_H_
#define TSGI_ROUTER_ROUTER_H_

#include <uv.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/listener_spec.h"
#include "proto/http1.h"

namespace tsgi {

struct RouterBackend {
  bool is_unix = false;
  std::string host;  // TCP: numeric address of the worker socket
  int port = 0;
  std::string path;  // UNIX: filesystem path, or "\0name" for the abstract namespace
  std::string name;  // as shown in log lines
};

struct RouterOptions {
  size_t buffer_size = 8192;            // the workers' --buffer-size: largest uwsgi vars block they take
  size_t max_head = 65535;              // largest client request head (uWSGI's router: 64 KiB)
  uint64_t timeout_ms = 60000;          // --http-timeout: idle client, stalled I/O, worker silence
  uint64_t keepalive_ms = 60000;        // idle time between requests on one client connection
  bool keepalive = true;                // --http-keepalive (on unless set to 0)
  uint64_t max_chunked_body = 1 << 20;  // de-chunked bodies are buffered up to this
  uint8_t modifier1 = 0;
  uint8_t modifier2 = 0;
  int log_fd = 2;
  bool log_date = false;        // --log-date: lines start with the date and " - "
  std::string log_date_format;  // its strftime format; "" = ctime's 24 characters
  int backlog = 1024;           // --listen, passed again to listen(2) on the inherited fds
};

struct RouterCounters {
  uint64_t sessions = 0;  // client connections accepted
  uint64_t requests = 0;  // requests forwarded to a worker
  uint64_t errors = 0;    // requests answered by the router itself (4xx/5xx)
};

struct Session;

// One line to opts.log_fd, with the --log-date prefix when asked for. One write(2) per line
// where the fd takes it whole, so lines from the router thread and the JS thread do not mix.
void WriteRouterLog(const RouterOptions& opts, const std::string& line);

class Router {
 public:
  Router(uv_loop_t* loop, const RouterOptions& opts, std::vector<ListenerSpec> listeners,
         RouterBackend backend);
  ~Router();

  // Starts listening on the listener fds, which the Router owns from then on: it closes each
  // one when it stops, or at once if Start fails. Returns false (and logs why) if one cannot
  // be used.
  bool Start();
  // Graceful stop: stop accepting, close idle connections, let in-flight requests finish and
  // close each client connection after its current response.
  void Stop();
  // Closes every handle now (env teardown); in-flight requests are dropped.
  void Destroy();

  size_t active() const { return sessions_.size(); }
  const RouterCounters& counters() const { return counters_; }

  // --- used by sessions (router/session.cc) -------------------------------------------
  uv_loop_t* loop() const { return loop_; }
  const RouterOptions& opts() const { return opts_; }
  const RouterBackend& backend() const { return backend_; }
  // The worker socket's address (sockaddr_in/in6, or sockaddr_un for a UNIX path).
  const sockaddr* backend_addr() const { return reinterpret_cast<const sockaddr*>(&backend_addr_); }
  socklen_t backend_addr_len() const { return backend_addr_len_; }
  bool stopping() const { return stopping_; }
  RouterCounters& mutable_counters() { return counters_; }
  // One parse result at a time: the loop is single-threaded and a head is turned into a
  // packet before the callback returns, so sessions share it (it is ~4 KiB).
  HttpRequestHead* scratch_head() { return &scratch_head_; }
  std::vector<uint32_t>* scratch_meta() { return &scratch_meta_; }
  std::string* scratch_blob() { return &scratch_blob_; }
  // The read buffer every stream reads into; valid until the read callback returns.
  char* read_buffer() { return read_buffer_; }
  size_t read_buffer_size() const { return sizeof(read_buffer_); }
  // Removes a closed session; its descriptor is free again, so a paused accept resumes.
  void Forget(Session* s);
  void Log(const std::string& line);

 private:
  struct ListenHandle;
  bool ResolveBackend();
  bool Watch(const ListenerSpec& spec);
  static void OnListenReadable(uv_poll_t* poll, int status, int events);
  static void OnAcceptRetry(uv_timer_t* t);
  void AcceptFrom(ListenHandle* lh);
  void PauseAccepting(int err);
  void ResumeAccepting();
  void CloseListeners();

  uv_loop_t* loop_;
  RouterOptions opts_;
  std::vector<ListenerSpec> listeners_;
  RouterBackend backend_;
  sockaddr_storage backend_addr_;
  socklen_t backend_addr_len_ = 0;
  std::vector<ListenHandle*> listen_handles_;
  // Out of descriptors (EMFILE/ENFILE): the listeners are not polled, new connections wait
  // in the kernel's backlog, and accept is tried again by this timer or when a session
  // closes. Heap-allocated: its memory must outlive uv_close, which may finish after ~Router.
  uv_timer_t* accept_timer_ = nullptr;
  bool accept_paused_ = false;
  uint64_t accept_failures_ = 0;   // failed accepts not yet reported in a log line
  uint64_t accept_logged_at_ = 0;  // loop time of the last such line (0: none yet)
  std::vector<Session*> sessions_;
  RouterCounters counters_;
  bool stopping_ = false;
  HttpRequestHead scratch_head_;
  std::vector<uint32_t> scratch_meta_;
  std::string scratch_blob_;
  char read_buffer_[64 * 1024];
};

}  // namespace tsgi

#endif  // TSGI_ROUTER_ROUTER_H_
