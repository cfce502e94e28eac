// Accept loop, request registry, app-slot accounting, timers and lifecycle of a Server.
// The response API called from JS is in server_api.cc.
#include "loop/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "common/chars.h"
#include "loop/connection.h"

namespace tsgi {

namespace {

constexpr size_t kReadBufferSize = 64 * 1024;
constexpr int kAcceptBatch = 64;              // accepts per readable event, for fairness across workers
constexpr uint64_t kTimerTickMs = 250;        // timeouts fire within a quarter second of their due time
constexpr uint32_t kStopAcceptMax = 65536;    // queued connections a stopping Server takes per listener
constexpr uint64_t kStopIdleGraceMs = 1000;   // idle keep-alive connections after Stop()
constexpr uint64_t kFdLogIntervalMs = 10000;  // one "out of descriptors" line per interval
// While requests wait for app slots, every kAcceptTurn-th freed slot goes to a connection
// still in the listen backlog (docs/security.md, "Fair accepting").
constexpr uint32_t kAcceptTurn = 4;

void FormatPeer(const sockaddr_storage& ss, char* addr, size_t addr_len, char* port, size_t port_len) {
  addr[0] = '\0';
  port[0] = '\0';
  if (ss.ss_family == AF_INET && addr_len >= INET_ADDRSTRLEN && port_len >= 6) {
    // Formatted by hand: inet_ntop and snprintf go through printf, once per connection.
    const sockaddr_in* in = reinterpret_cast<const sockaddr_in*>(&ss);
    const unsigned char* b = reinterpret_cast<const unsigned char*>(&in->sin_addr);
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
      if (i > 0) addr[n++] = '.';
      n += FormatDecimal(b[i], addr + n);
    }
    addr[n] = '\0';
    // REMOTE_PORT in host byte order (uWSGI's router byte-swaps it: docs/router.md).
    port[FormatDecimal(ntohs(in->sin_port), port)] = '\0';
  } else if (ss.ss_family == AF_INET6) {
    const sockaddr_in6* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &in6->sin6_addr, addr, static_cast<socklen_t>(addr_len));
    snprintf(port, port_len, "%u", static_cast<unsigned>(ntohs(in6->sin6_port)));
  }
}

void FreeHandle(uv_handle_t* h) {
  if (h->type == UV_POLL)
    delete reinterpret_cast<uv_poll_t*>(h);
  else if (h->type == UV_TIMER)
    delete reinterpret_cast<uv_timer_t*>(h);
  else if (h->type == UV_IDLE)
    delete reinterpret_cast<uv_idle_t*>(h);
}

}  // namespace

uint32_t DefaultMaxConnections(uint32_t serving_threads) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 0;
  uint64_t cap = static_cast<uint64_t>(rl.rlim_cur) * 3 / 4 / std::max<uint32_t>(serving_threads, 1);
  return static_cast<uint32_t>(std::min<uint64_t>(std::max<uint64_t>(cap, 16), 0xffffffffu));
}

Server::Server(uv_loop_t* loop, const ServerOptions& opts, std::vector<ListenerSpec> listeners,
               RequestSink* sink, uint32_t* meta, size_t meta_len)
    : loop_(loop),
      opts_(opts),
      listeners_(std::move(listeners)),
      sink_(sink),
      meta_(meta),
      meta_len_(meta_len),
      read_buf_(kReadBufferSize) {
  log_.Configure(opts_.log_fd, opts_.log_micros, opts_.core_id, opts_.worker_id, opts_.log_format);
  log_.SetDatePrefix(opts_.log_date, opts_.log_date_format);
  if (opts_.harakiri_ms > 0) {
    std::atomic<uint64_t>* kills =
        opts_.scoreboard.worker ? &opts_.scoreboard.worker->harakiri_count : nullptr;
    harakiri_ = std::make_unique<HarakiriBoard>(opts_.harakiri_ms, opts_.log_fd, opts_.core_id,
                                                opts_.thread_id, kills);
  }
  blob_.reserve(4096);
}

Server::~Server() {
  Destroy();
}

void Server::Start() {
  // Each Server accepts on descriptors of its own (duplicates of the ones it was given, which
  // their owner may close): Stop() accepts what is queued and closes them, so a socket that no
  // process serves any more closes at once (CloseListeners).
  owned_fds_.assign(listeners_.size(), false);
  for (size_t i = 0; i < listeners_.size(); i++) {
    int fd = fcntl(listeners_[i].fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) continue;  // out of descriptors: accept on the given one, never close it
    listeners_[i].fd = fd;
    owned_fds_[i] = true;
  }
  for (size_t i = 0; i < listeners_.size(); i++) {
    uv_poll_t* p = new uv_poll_t;
    uv_poll_init_socket(loop_, p, listeners_[i].fd);
    p->data = this;
    listener_polls_.push_back(p);
  }
  timer_ = new uv_timer_t;
  uv_timer_init(loop_, timer_);
  timer_->data = this;
  idle_ = new uv_idle_t;
  uv_idle_init(loop_, idle_);
  idle_->data = this;
  ResumeAccepting();
  if (opts_.scoreboard.worker) opts_.scoreboard.worker->accepting.store(1, std::memory_order_relaxed);
}

// The timer ticks only while something can be due: a connection (each one sits in a
// timeout list from accept to close) or paused accepting after EMFILE. An idle worker then
// wakes for nothing (docs/architecture.md, "Timeouts").
void Server::ArmTimer() {
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(timer_)))
    uv_timer_start(timer_, OnTimer, kTimerTickMs, kTimerTickMs);
}

void Server::ResumeAccepting() {
  if (accepting_ || stopping_ || destroyed_) return;
  accepting_ = true;
  for (uv_poll_t* p : listener_polls_) uv_poll_start(p, UV_READABLE, OnListenerReadable);
}

void Server::PauseAccepting() {
  if (!accepting_) return;
  accepting_ = false;
  for (uv_poll_t* p : listener_polls_) uv_poll_stop(p);
}

void Server::OnListenerReadable(uv_poll_t* handle, int status, int events) {
  Server* s = static_cast<Server*>(handle->data);
  if (status < 0) return;
  for (size_t i = 0; i < s->listener_polls_.size(); i++) {
    if (s->listener_polls_[i] == handle) {
      s->StartBatch();
      s->Accept(i, kAcceptBatch);
      s->FinishBatch();
      return;
    }
  }
}

bool Server::AtConnectionCap() const {
  return opts_.max_connections != 0 && counters_.open >= opts_.max_connections;
}

// At the connection cap a new client is worth more than one that sits idle between
// requests: the oldest idle keep-alive connection is closed for it (nginx does the same
// when worker_connections run out). Returns false when none is idle.
bool Server::CloseOldestIdle() {
  for (Connection* c = idle_timeouts_.head; c != nullptr; c = c->timer.next) {
    if (c->state == ConnState::kHead && c->req_id == 0 && c->pending_in.empty() &&
        c->out.size() == c->out_off && !c->deferred) {
      ConnectionClose(c);
      return true;
    }
  }
  return false;
}

// EMFILE/ENFILE: the connection stays in the backlog. Polling the (level-triggered)
// listener again at once would spin, so accepting pauses until a connection closes or the
// next timer tick, and the log gets one line per interval with the count.
void Server::OnDescriptorsExhausted(int err) {
  fd_exhausted_ = true;
  ArmTimer();
  fd_failures_++;
  PauseAccepting();
  uint64_t now = uv_now(loop_);
  if (fd_logged_ms_ != 0 && now - fd_logged_ms_ < kFdLogIntervalMs) return;
  char line[200];
  int n = fd_logged_ms_ == 0
              ? snprintf(line, sizeof line,
                         "tsgi: accept() failed: %s; not accepting until a descriptor is free", strerror(err))
              : snprintf(line, sizeof line, "tsgi: accept() failed: %s (%llu times in the last %llu s)",
                         strerror(err), static_cast<unsigned long long>(fd_failures_),
                         static_cast<unsigned long long>((now - fd_logged_ms_ + 500) / 1000));
  if (n > 0) log_.AppendLine(line, std::min(static_cast<size_t>(n), sizeof line - 1));
  fd_logged_ms_ = now;
  fd_failures_ = 0;
}

bool Server::MayAccept() const {
  return !stopping_ && !destroyed_ && !fd_exhausted_ &&
         (opts_.max_inflight == 0 || counters_.inflight + reserved_ < opts_.max_inflight);
}

void Server::Accept(size_t index, int limit) {
  const ListenerSpec& l = listeners_[index];
  // Stop as soon as the app cores are full: a connection accepted now could only wait here
  // while another thread or process with a free core would serve it at once.
  for (int i = 0; i < limit && MayAccept(); i++) {
    if (AtConnectionCap() && !CloseOldestIdle()) {
      PauseAccepting();  // resumed when a connection closes (UpdateAccepting)
      return;
    }
    sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = accept4(l.fd, reinterpret_cast<sockaddr*>(&ss), &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      // EAGAIN: another worker took it, or the queue is empty.
      if (errno == EMFILE || errno == ENFILE) OnDescriptorsExhausted(errno);
      return;
    }
    // With TCP_DEFER_ACCEPT the request is usually here already: read it now, and register
    // the socket with epoll only if something is left to wait for.
    ConnectionOnReadable(Adopt(fd, ss, l));
  }
}

Connection* Server::Adopt(int fd, const sockaddr_storage& ss, const ListenerSpec& l) {
  char addr[INET6_ADDRSTRLEN + 1], port[8];
  FormatPeer(ss, addr, sizeof addr, port, sizeof port);
  counters_.connections++;
  counters_.open++;
  Connection* c = ConnectionOpen(this, fd, &l, addr, port);
  all_.push_back(c);
  ArmTimer();
  return c;
}

// A stopping Server takes the connections already queued on its listeners (they are served,
// with "Connection: close") and closes its descriptors. Once every process that held a
// socket has done so the kernel closes it, and new connections are refused at once, which a
// proxy retries on another server even for a POST (nothing was sent); a socket left open
// until the process exits would queue them and reset them then (docs/master.md, "Signals").
// A handshake still in progress at the last close is reset (the kernel drops a closed
// listener's half-open connections; TCP_DEFER_ACCEPT keeps one half-open until its data).
void Server::CloseListeners(const std::vector<int>& give_up) {
  // The caller's descriptors close first when every listener has its own: then the socket
  // stays open only through ours, and nothing but the accept loop stands between the last
  // accept and the close.
  bool own_all = std::all_of(owned_fds_.begin(), owned_fds_.end(), [](bool b) { return b; });
  if (own_all) {
    for (int fd : give_up) ::close(fd);
  }
  // The poll handles go first: uv_close takes the fd out of epoll while it is still open. A
  // stopped poll leaves it registered, and since the socket lives on in other processes the
  // registration would outlive our close and report events under a number accept() reuses.
  for (uv_poll_t* p : listener_polls_) uv_close(reinterpret_cast<uv_handle_t*>(p), FreeHandle);
  listener_polls_.clear();
  for (size_t i = 0; i < listeners_.size(); i++) {
    if (!owned_fds_[i]) continue;
    for (uint32_t n = 0; n < kStopAcceptMax; n++) {
      sockaddr_storage ss;
      socklen_t sl = sizeof ss;
      int fd = accept4(listeners_[i].fd, reinterpret_cast<sockaddr*>(&ss), &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0 && errno == EINTR) continue;
      if (fd < 0) break;
      ConnectionUpdatePoll(Adopt(fd, ss, listeners_[i]));  // read on the next loop turn, not under a JS call
    }
    ::close(listeners_[i].fd);
    owned_fds_[i] = false;
  }
  if (!own_all) {
    for (int fd : give_up) ::close(fd);
  }
}

uint32_t Server::RegisterRequest(Connection* c) {
  uint32_t id = next_id_++;
  if (next_id_ == 0) next_id_ = 1;  // 0 means "no request"
  requests_[id] = c;
  counters_.inflight++;
  return id;
}

void Server::UnregisterRequest(uint32_t id) {
  if (requests_.erase(id)) counters_.inflight--;
}

Connection* Server::Find(uint32_t id) {
  auto it = requests_.find(id);
  return it == requests_.end() ? nullptr : it->second;
}

// An app slot is taken when a parsed request is about to be dispatched and given back
// when its response ends. While every slot is taken the server stops accepting (see
// UpdateAccepting), so that in a multi-process setup idle workers take the new
// connections from the shared backlog, as uWSGI's sync workers do.
bool Server::AcquireSlot(Connection* c) {
  if (opts_.max_inflight == 0 || counters_.inflight + reserved_ < opts_.max_inflight) return true;
  waiting_.push_back(c);
  return false;
}

void Server::ReleaseSlot() {
  // Called after UnregisterRequest, so `inflight` already excludes the finished request.
  GrantWaiting();
  MaybeFinishStop();
}

void Server::GrantWaiting() {
  while (!waiting_.empty() &&
         (opts_.max_inflight == 0 || counters_.inflight + reserved_ < opts_.max_inflight)) {
    // Kept-alive connections always have a next request parsed and waiting, and accepting
    // is paused while slots are full: without a turn for the backlog, new clients would
    // wait until the kept-alive load stops. The turn's slot is held for an accept in the
    // idle callback (a JS call may be on the stack here).
    if (++grants_ % kAcceptTurn == 0 && !accept_turn_pending_ && !stopping_ && !fd_exhausted_ &&
        !listener_polls_.empty()) {
      accept_turn_pending_ = true;
      reserved_++;
      if (idle_) uv_idle_start(idle_, OnIdle);
      continue;
    }
    Connection* next = waiting_.front();
    waiting_.erase(waiting_.begin());
    next->slot_reserved = true;
    reserved_++;
    Defer(next);
  }
}

void Server::SlotReservationUsed() {
  if (reserved_ > 0) reserved_--;
}

void Server::UpdateAccepting() {
  bool want = MayAccept() && (!AtConnectionCap() || idle_timeouts_.head != nullptr);
  if (want)
    ResumeAccepting();
  else
    PauseAccepting();
}

void Server::StartBatch() {
  batch_depth_++;
  sink_->BeginBatch();
}

void Server::FinishBatch() {
  // At --async 1 an app that answers in a promise would otherwise hold its slot until the
  // loop's check phase, and every other ready connection would wait a whole loop turn (one
  // request per turn: ~44 instead of ~10 us of CPU per request, docs/architecture.md). The
  // callback's own work is done here; the batch is still open, so the answers given now
  // leave accepting to the one UpdateAccepting below, as synchronous answers do.
  if (batch_depth_ == 1 && settle_wanted_) {
    settle_wanted_ = false;
    if (in_js_call_ == 0 && !destroyed_ && slots_full()) sink_->Settle();
  }
  batch_depth_--;
  UpdateAccepting();
  log_.FlushIfDue(uv_now(loop_), all_.empty());
  sink_->EndBatch();
  FreeClosed();
}

void Server::Bury(Connection* c) {
  closed_.push_back(c);
}

void Server::FreeClosed() {
  for (Connection* c : closed_) delete c;
  closed_.clear();
}

void Server::Defer(Connection* c) {
  if (c->deferred) return;
  c->deferred = true;
  deferred_.push_back(c);
  if (idle_ && !in_deferred_) uv_idle_start(idle_, OnIdle);
}

void Server::OnIdle(uv_idle_t* handle) {
  Server* s = static_cast<Server*>(handle->data);
  s->StartBatch();
  s->RunDeferred();
  s->FinishBatch();
  s->sink_->FlushQueuedJs();
  if (s->deferred_.empty() && !s->stop_notify_pending_ && !s->accept_turn_pending_ && s->idle_) {
    uv_idle_stop(s->idle_);
  }
}

// The backlog's turn (GrantWaiting): the held slot is given back and used to accept
// connections that are already there; what is left goes to the waiting connections.
void Server::RunAcceptTurn() {
  if (!accept_turn_pending_) return;
  accept_turn_pending_ = false;
  SlotReservationUsed();
  for (size_t i = 0; i < listeners_.size() && MayAccept(); i++) Accept(i, 1);
  GrantWaiting();
}

void Server::RunDeferred() {
  RunAcceptTurn();
  in_deferred_ = true;
  std::vector<Connection*> batch;
  batch.swap(deferred_);
  for (Connection* c : batch) {
    c->deferred = false;
    if (c->state == ConnState::kClosed) continue;
    if (c->state == ConnState::kWaitSlot && c->slot_reserved) {
      ConnectionDispatchWaiting(c);
    } else {
      ConnectionRunDeferred(c);
    }
  }
  in_deferred_ = false;
  if (stop_notify_pending_) MaybeFinishStop();
  if (!deferred_.empty() && idle_) uv_idle_start(idle_, OnIdle);
}

void Server::OnTimer(uv_timer_t* handle) {
  Server* s = static_cast<Server*>(handle->data);
  s->StartBatch();
  s->fd_exhausted_ = false;  // try accepting again (FinishBatch resumes the listeners)
  s->ExpireTimeouts();
  s->FinishBatch();
  s->sink_->FlushQueuedJs();
  if (s->all_.empty() && !s->fd_exhausted_) uv_timer_stop(handle);
}

void Server::ExpireTimeouts() {
  uint64_t now = uv_now(loop_);
  ConnList* lists[3] = {&read_timeouts_, &idle_timeouts_, &write_timeouts_};
  for (ConnList* list : lists) {
    while (list->head && list->head->timer.deadline <= now) {
      Connection* c = list->head;
      ConnListRemove(c);
      ConnectionTimeout(c);
      if (c->state != ConnState::kClosed) ConnectionFlush(c);
    }
  }
}

void Server::OnConnectionClosed(Connection* c) {
  counters_.open--;
  fd_exhausted_ = false;  // a descriptor is free again
  auto drop = [c](std::vector<Connection*>& v) { v.erase(std::remove(v.begin(), v.end(), c), v.end()); };
  drop(all_);
  drop(waiting_);
  drop(deferred_);
  if (c->slot_reserved) {
    c->slot_reserved = false;
    SlotReservationUsed();
    GrantWaiting();
  }
  MaybeFinishStop();
}

void Server::Stop(const std::vector<int>& give_up) {
  if (stopping_ || destroyed_) return;
  PauseAccepting();
  stopping_ = true;
  CloseListeners(give_up);
  // Every connection finishes its current request and closes (ResponseBegin sees
  // stopping() and says "Connection: close"). An idle keep-alive connection gets a short
  // grace instead of an immediate close: a client that sends its next request right away
  // gets an answer (with Connection: close) rather than a reset on a reused connection.
  uint64_t grace = std::min<uint64_t>(opts_.keepalive_timeout_ms, kStopIdleGraceMs);
  uint64_t now = uv_now(loop_);
  for (Connection* c : all_) {
    if (c->state == ConnState::kHead && c->req_id == 0 && c->pending_in.empty() &&
        c->timer.owner == &idle_timeouts_) {
      ConnListRemove(c);
      ConnListPush(&idle_timeouts_, c, now + grace);
    }
  }
  MaybeFinishStop();
}

void Server::MaybeFinishStop() {
  if (!stopping_ || closed_notified_ || !all_.empty()) return;
  // OnClosed calls into JS: only from inside a libuv callback of ours, never from a JS call
  // (Stop() itself, or a respond() that finished the last request).
  if (in_js_call_ > 0 || batch_depth_ == 0) {
    stop_notify_pending_ = true;
    if (idle_) uv_idle_start(idle_, OnIdle);
    return;
  }
  closed_notified_ = true;
  stop_notify_pending_ = false;
  log_.Flush();
  sink_->OnClosed();
}

void Server::Destroy() {
  if (destroyed_) return;
  destroyed_ = true;
  closed_notified_ = true;  // a dying environment gets no more callbacks
  PauseAccepting();
  std::vector<Connection*> snapshot = all_;
  for (Connection* c : snapshot) {
    c->req_id = 0;  // no callbacks into a dying environment
    c->orphan_input_id = 0;
    ConnectionClose(c);
  }
  for (uv_poll_t* p : listener_polls_) {
    uv_poll_stop(p);
    uv_close(reinterpret_cast<uv_handle_t*>(p), FreeHandle);
  }
  listener_polls_.clear();
  for (size_t i = 0; i < owned_fds_.size(); i++) {
    if (owned_fds_[i]) ::close(listeners_[i].fd);
  }
  owned_fds_.clear();
  if (timer_) {
    uv_timer_stop(timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(timer_), FreeHandle);
    timer_ = nullptr;
  }
  if (idle_) {
    uv_idle_stop(idle_);
    uv_close(reinterpret_cast<uv_handle_t*>(idle_), FreeHandle);
    idle_ = nullptr;
  }
  // Inside a batch the caller may still hold a connection just closed (a destroy() from JS
  // run by a dispatch); FinishBatch frees them once it is unwound.
  if (batch_depth_ == 0) FreeClosed();
  log_.Flush();
}

}  // namespace tsgi
