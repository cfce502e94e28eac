// Input side of a connection: reading, deadlines, the parse pass and close. Parsing and
// dispatching requests is in request.cc, the output side in response.cc.
#include "loop/connection.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "loop/request.h"

namespace tsgi {

// --- deadline lists (conn_list.h) -------------------------------------------------------

void ConnListPush(ConnList* list, Connection* c, uint64_t deadline) {
  ConnListRemove(c);
  c->timer.owner = list;
  c->timer.deadline = deadline;
  c->timer.prev = list->tail;
  c->timer.next = nullptr;
  if (list->tail)
    list->tail->timer.next = c;
  else
    list->head = c;
  list->tail = c;
}

void ConnListRemove(Connection* c) {
  ConnList* list = c->timer.owner;
  if (!list) return;
  if (c->timer.prev)
    c->timer.prev->timer.next = c->timer.next;
  else
    list->head = c->timer.next;
  if (c->timer.next)
    c->timer.next->timer.prev = c->timer.prev;
  else
    list->tail = c->timer.prev;
  c->timer.prev = c->timer.next = nullptr;
  c->timer.owner = nullptr;
}

namespace {

void OnPoll(uv_poll_t* handle, int status, int events);

void OnClosed(uv_handle_t* handle) {
  Connection* c = static_cast<Connection*>(handle->data);
  delete reinterpret_cast<uv_poll_t*>(handle);
  delete c;
}

}  // namespace

// Which timeout applies now: pending output waits on the client reading (write list, the
// deadline moved on by every write that makes progress: ConnectionFlush); a head in
// progress has one deadline for the whole of it, counted from its first byte, so a client
// that drips header lines cannot keep it open (docs/security.md); a body in progress waits
// on the client sending (read list, renewed per read, plus the minimum rate checked on
// each read); a kept-alive connection between requests waits on the idle list. An app
// still working has none (harakiri is the backstop for that).
void ConnectionArmTimer(Connection* c) {
  Server* s = c->server;
  uint64_t now = uv_now(s->loop());
  if (c->out.size() > c->out_off) {
    if (c->timer.owner != &s->write_timeouts()) {
      ConnListPush(&s->write_timeouts(), c, now + s->opts().socket_timeout_ms);
    }
    return;
  }
  switch (c->state) {
    case ConnState::kHead:
      if (c->req_id == 0 && c->pending_in.empty() && c->timer.owner == &s->idle_timeouts()) return;
      if (c->timer.owner == &s->read_timeouts() && !c->buffering_body) return;
      ConnListPush(&s->read_timeouts(), c, now + s->opts().socket_timeout_ms);
      return;
    case ConnState::kBody:
      if (c->input_paused) break;
      ConnListPush(&s->read_timeouts(), c, now + s->opts().socket_timeout_ms);
      return;
    default:
      break;
  }
  ConnListRemove(c);
}

Connection* ConnectionOpen(Server* s, int fd, const ListenerSpec* l, const char* addr, const char* port) {
  Connection* c = new Connection();
  c->server = s;
  c->fd = fd;
  c->protocol = l->protocol;
  c->listener = l;
  c->remote_addr = addr;
  c->remote_port = port;
  // No poll handle yet: the caller reads at once, and a connection answered and closed in
  // that first pass never costs an epoll registration (ConnectionUpdatePoll creates it).
  ConnListPush(&s->read_timeouts(), c, uv_now(s->loop()) + s->opts().socket_timeout_ms);
  return c;
}

void ConnectionUpdatePoll(Connection* c) {
  if (c->state == ConnState::kClosed) return;
  int ev = 0;
  bool reading = (c->state == ConnState::kHead && !c->pending_close && !OutputBacklogged(c)) ||
                 (c->state == ConnState::kBody && !c->input_paused);
  // A peer that has shut down its side (peer_closed, seen as RDHUP while not reading) may
  // still have bytes and its EOF in the socket: a state that reads must read them, or a
  // request dispatched later would wait for a body that can only end in a timeout while it
  // holds an app slot. Only a state that does not read stops watching, so a level-triggered
  // RDHUP does not spin.
  if (reading)
    ev |= UV_READABLE;
  else if (!c->peer_closed)
    ev |= UV_DISCONNECT;
  // drain_wanted with nothing left to send: a write() inside the read pass said "wait" and
  // the end-of-pass flush then sent everything; one writable event delivers that onDrain.
  if (c->out.size() > c->out_off || c->drain_wanted) ev |= UV_WRITABLE;
  if (ev == c->poll_events && (c->poll || ev == 0)) return;
  c->poll_events = ev;
  if (!c->poll) {
    if (ev == 0) return;
    c->poll = new uv_poll_t;
    uv_poll_init_socket(c->server->loop(), c->poll, c->fd);
    c->poll->data = c;
  }
  if (ev == 0)
    uv_poll_stop(c->poll);
  else
    uv_poll_start(c->poll, ev, OnPoll);
}

namespace {

// Parses the buffered bytes and drops what the pass consumed.
void ProcessPending(Connection* c) {
  long used = ProcessBytes(c, c->pending_in.data(), c->pending_in.size());
  if (used > 0 && c->state != ConnState::kClosed) c->pending_in.erase(0, static_cast<size_t>(used));
}

// Ends a parse pass: writes what it produced (corked until now), then arms the timeout and
// the poll events for whatever comes next.
void EndPass(Connection* c) {
  for (;;) {
    c->processing = false;
    if (c->state == ConnState::kClosed) return;
    ConnectionFlush(c);
    if (c->state == ConnState::kClosed) return;
    // Requests held back behind unread answers go on once the socket took those answers.
    if (!c->held_back || OutputBacklogged(c) || c->state != ConnState::kHead) break;
    c->held_back = false;
    c->processing = true;
    ProcessPending(c);
  }
  ConnectionArmTimer(c);
  ConnectionUpdatePoll(c);
}

// A read that filled all it asked for suggests more is waiting (the rest of a body behind
// its head): reading again at once saves the epoll registration and the wake-up that a
// return to the loop costs. Bounded so one busy connection cannot starve the others.
constexpr int kReadsPerWake = 4;

struct ReadTarget {
  char* data;
  size_t size;
};

// Where the next read goes: the tail of a whole body's buffer (no copy at all), or the
// Server's shared buffer. uwsgi and SCGI heads are at most buffer-size bytes and a
// connection carries one request, so until dispatch their reads ask for no more than a head
// and the body --post-buffering waits for: the rest of the body then lands in its own
// buffer instead of being copied out of this one.
ReadTarget PickReadTarget(Connection* c) {
  Server* s = c->server;
  if (c->state == ConnState::kBody && c->whole.data != nullptr && c->pending_in.empty() &&
      c->body_remaining > 0) {
    return {c->whole.data + c->whole.filled, static_cast<size_t>(c->body_remaining)};
  }
  size_t size = s->read_buffer_size();
  if (c->state == ConnState::kHead && (c->protocol == Protocol::kUwsgi || c->protocol == Protocol::kScgi)) {
    // + the uwsgi header, or the SCGI netstring's length digits, ':' and ','.
    size = std::min<uint64_t>(size, s->opts().buffer_size + 32 + s->opts().post_buffering);
  }
  return {s->read_buffer(), size};
}

// Whether the connection is in a state that reads more (as ConnectionUpdatePoll decides).
bool StillReading(const Connection* c) {
  return (c->state == ConnState::kHead && !c->pending_close && !OutputBacklogged(c) && !c->held_back) ||
         (c->state == ConnState::kBody && !c->input_paused);
}

// Parses the bytes one read brought, keeping what the pass did not consume.
void ParseRead(Connection* c, char* data, size_t n) {
  if (c->pending_in.empty()) {
    long used = ProcessBytes(c, data, n);
    if (used >= 0 && c->state != ConnState::kClosed && static_cast<size_t>(used) < n) {
      c->pending_in.assign(data + used, n - static_cast<size_t>(used));
    }
  } else {
    c->pending_in.append(data, n);
    ProcessPending(c);
  }
}

// The peer's EOF while reading.
void OnEndOfInput(Connection* c) {
  c->peer_closed = true;
  if (c->state == ConnState::kBody) {
    // Truncation is never silent: the app's reads reject (docs/app-contract.md, tsgi.input).
    ConnectionFail(c, ErrorCode::HTTP_TRUNCATED_BODY);
  } else if (c->buffering_body) {
    // A body cut short while it was being buffered never reaches the app: the log says so
    // and a half-closed client still reads the 400.
    Refuse(c, ErrorCode::HTTP_TRUNCATED_BODY);
    ConnectionFlush(c);
  } else {
    ConnectionClose(c);
  }
}

}  // namespace

void ConnectionProcess(Connection* c) {
  if (c->state == ConnState::kClosed) return;
  c->processing = true;
  c->held_back = false;
  if (!c->pending_in.empty() && (c->state == ConnState::kHead || c->state == ConnState::kBody)) {
    ProcessPending(c);
  }
  EndPass(c);
}

void ConnectionOnReadable(Connection* c) {
  Server* s = c->server;
  if (c->state != ConnState::kHead && c->state != ConnState::kBody) {
    // Only UV_DISCONNECT is polled here: the peer shut down its side while the app works.
    // The response is still written (a half-closed client may read it); stop polling so a
    // level-triggered RDHUP does not spin. The app hears of it (onAbort with
    // IO_PEER_SHUTDOWN: the request stays live), since a client that closed altogether looks
    // the same from here, and node:http aborts its request at that FIN.
    c->peer_closed = true;
    if (c->req_id != 0 && c->resp != RespState::kDone)
      s->sink()->OnAbort(c->req_id, ErrorCode::IO_PEER_SHUTDOWN);
    ConnectionUpdatePoll(c);
    return;
  }
  bool more = true;
  for (int i = 0; more && i < kReadsPerWake; i++) {
    ReadTarget t = PickReadTarget(c);
    ssize_t n;
    do {
      n = ::read(c->fd, t.data, t.size);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      c->processing = false;
      ConnectionFail(c, ErrorCode::IO_READ_FAILED);
      return;
    }
    // After earlier reads in this wake-up, an empty socket or its EOF only ends the pass
    // (which writes what those reads produced); an EOF stays readable and is seen next time.
    if (n <= 0 && i > 0) break;
    if (n < 0) {
      ConnectionUpdatePoll(c);  // the first read after accept found nothing: wait for it
      return;
    }
    if (n == 0) {
      OnEndOfInput(c);
      return;
    }
    c->processing = true;
    ParseRead(c, t.data, static_cast<size_t>(n));
    more = static_cast<size_t>(n) == t.size && StillReading(c);
  }
  // Pipelined bytes behind a request the app still holds are bounded: past buffer-size
  // plus one read, stop reading (UpdatePoll does) and let the kernel buffer the rest.
  EndPass(c);
}

void ConnectionDispatchWaiting(Connection* c) {
  if (c->state != ConnState::kWaitSlot) return;
  c->state = ConnState::kHead;
  ConnectionProcess(c);
}

void NotifyOrphanInput(Connection* c) {
  if (c->orphan_input_id == 0) return;
  uint32_t id = c->orphan_input_id;
  c->orphan_input_id = 0;
  c->server->sink()->OnData(id, nullptr, 0, ErrorCode::HTTP_BODY_UNREAD);
}

void ConnectionFail(Connection* c, ErrorCode err) {
  Server* s = c->server;
  uint32_t id = c->req_id;
  NotifyOrphanInput(c);
  if (id && c->resp != RespState::kDone) {
    if (ScoreboardCore* sc = s->opts().scoreboard.core) {
      bool write_side = err == ErrorCode::IO_WRITE_FAILED || err == ErrorCode::IO_WRITE_TIMEOUT;
      ScoreboardAdd(write_side ? sc->write_errors : sc->read_errors, 1);
    }
    if (!c->body_done) {
      s->sink()->OnData(id, nullptr, 0, err);
      c->body_done = true;
    }
    bool started = c->resp != RespState::kNone;
    s->sink()->OnAbort(id, err);
    if (!started && !c->peer_closed && err != ErrorCode::IO_READ_FAILED &&
        err != ErrorCode::IO_WRITE_FAILED) {
      // Nothing was sent yet, so the client can still be told why (408, 413, 400).
      Refuse(c, err);
      ConnectionRequestDone(c, true);
      return;
    }
    ConnectionRequestDone(c, true);
  }
  ConnectionClose(c);
}

namespace {

ErrorCode HeadTimeout(Protocol p) {
  switch (p) {
    case Protocol::kHttp:
      return ErrorCode::HTTP_HEAD_TIMEOUT;
    case Protocol::kUwsgi:
      return ErrorCode::UWSGI_HEAD_TIMEOUT;
    case Protocol::kFastcgi:
      return ErrorCode::FCGI_HEAD_TIMEOUT;
    case Protocol::kScgi:
      return ErrorCode::SCGI_HEAD_TIMEOUT;
  }
  return ErrorCode::HTTP_HEAD_TIMEOUT;
}

}  // namespace

void ConnectionTimeout(Connection* c) {
  Server* s = c->server;
  if (c->out.size() > c->out_off) {
    // Checked first: a connection whose answers wait unread may be between requests.
    char line[256];
    int n = snprintf(line, sizeof line, "tsgi: closing connection from %s: %s (%s), %zu bytes unsent",
                     c->remote_addr.empty() ? "unix socket" : c->remote_addr.c_str(),
                     ErrorReason(ErrorCode::IO_WRITE_TIMEOUT), ErrorName(ErrorCode::IO_WRITE_TIMEOUT),
                     c->out.size() - c->out_off);
    if (n > 0) s->log().AppendLine(line, std::min(static_cast<size_t>(n), sizeof line - 1));
    ConnectionFail(c, ErrorCode::IO_WRITE_TIMEOUT);
    return;
  }
  if (c->state == ConnState::kHead) {
    // FastCGI consumes whole records as they come (BEGIN_REQUEST, PARAMS), so a request whose
    // params never end leaves nothing in pending_in: its begun request id says it is mid-head.
    bool fcgi_begun = c->protocol == Protocol::kFastcgi && c->fcgi.id != 0;
    if (c->pending_in.empty() && !fcgi_begun) {
      ConnectionClose(c);  // idle keep-alive or silent connection: close quietly
    } else if (c->buffering_body) {
      Refuse(c, ErrorCode::HTTP_BODY_TIMEOUT);
      ConnectionFlush(c);
    } else {
      Refuse(c, HeadTimeout(c->protocol));
      ConnectionFlush(c);
    }
    return;
  }
  if (c->state == ConnState::kBody) {
    ConnectionFail(c, ErrorCode::HTTP_BODY_TIMEOUT);
    return;
  }
  ConnectionClose(c);
}

void ConnectionRunDeferred(Connection* c) {
  if (c->state == ConnState::kClosed) return;
  NotifyOrphanInput(c);
  if (c->deferred_error != ErrorCode::OK) {
    ErrorCode err = c->deferred_error;
    c->deferred_error = ErrorCode::OK;
    ConnectionFail(c, err);
    return;
  }
  if (c->pending_close && c->out.size() <= c->out_off) {
    ConnectionClose(c);
    return;
  }
  ConnectionProcess(c);
}

void ConnectionClose(Connection* c) {
  if (c->state == ConnState::kClosed) return;
  Server* s = c->server;
  NotifyOrphanInput(c);
  if (c->req_id) {
    uint32_t id = c->req_id;
    if (!c->body_done) {
      s->sink()->OnData(id, nullptr, 0, ErrorCode::IO_PEER_CLOSED);
      c->body_done = true;
    }
    if (c->resp != RespState::kDone) s->sink()->OnAbort(id, ErrorCode::IO_PEER_CLOSED);
    ConnectionRequestDone(c, true);
  }
  ReleaseWholeBody(c);
  c->state = ConnState::kClosed;
  ConnListRemove(c);
  s->OnConnectionClosed(c);
  if (c->poll) uv_poll_stop(c->poll);  // before close(2): epoll must forget the fd first
  ::close(c->fd);
  c->fd = -1;
  if (c->poll) {
    uv_close(reinterpret_cast<uv_handle_t*>(c->poll), OnClosed);
  } else {
    s->Bury(c);
  }
}

namespace {

void OnPoll(uv_poll_t* handle, int status, int events) {
  Connection* c = static_cast<Connection*>(handle->data);
  Server* s = c->server;
  s->StartBatch();
  if (status < 0) {
    ConnectionFail(c, ErrorCode::IO_READ_FAILED);
  } else {
    if ((events & UV_WRITABLE) && c->state != ConnState::kClosed) {
      if (ConnectionFlush(c) && c->state != ConnState::kClosed) {
        if (c->drain_wanted && c->out.size() - c->out_off < kResponseHighWater) {
          c->drain_wanted = false;
          s->sink()->OnDrain(c->req_id);
        }
        // Pipelined requests held back while their answers waited unread: go on with them.
        if (c->held_back && c->state == ConnState::kHead && !OutputBacklogged(c) && !c->processing) {
          ConnectionProcess(c);
        } else if (c->state != ConnState::kClosed) {
          ConnectionArmTimer(c);
          ConnectionUpdatePoll(c);
        }
      }
    }
    if ((events & (UV_READABLE | UV_DISCONNECT)) && c->state != ConnState::kClosed) {
      ConnectionOnReadable(c);
    }
  }
  s->FinishBatch();
}

}  // namespace

}  // namespace tsgi
