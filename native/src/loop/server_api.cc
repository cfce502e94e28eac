// The response API of a Server, called from JS through binding/server_wrap.cc. Every
// method here runs with a JS frame on the stack, so none of them calls the RequestSink:
// follow-up work (next pipelined request, error reports) is deferred (server.h).
#include "loop/connection.h"
#include "loop/server.h"

namespace tsgi {

// Marks the span of a JS call for Server::in_js_call() and re-evaluates accepting at the
// end, since finishing a response frees an app slot.
struct JsCallGuard {
  explicit JsCallGuard(Server* s) : s_(s) { s_->in_js_call_++; }
  ~JsCallGuard() {
    // Inside a batch (the app answered synchronously) FinishBatch decides once at the end;
    // toggling here would cost two epoll_ctl calls per request.
    if (--s_->in_js_call_ == 0 && !s_->in_batch()) s_->UpdateAccepting();
  }
  Server* s_;
};

namespace {

// Writes now unless the connection is inside its read pass, which flushes (corks) once at
// the end so pipelined responses leave in one send(2).
void FlushSoon(Connection* c) {
  if (!c->processing) {
    ConnectionFlush(c);
    if (c->state == ConnState::kClosed) return;
    // Output left in `out` waits on the client: arm the write deadline now, or a client
    // that reads nothing would hold the app's slot for as long as it stays connected.
    ConnectionArmTimer(c);
    ConnectionUpdatePoll(c);
  }
}

}  // namespace

bool Server::Respond(uint32_t id, const char* status, size_t status_len, const char* headers,
                     size_t headers_len, uint32_t flags, const char* body, size_t body_len) {
  JsCallGuard g(this);
  Connection* c = Find(id);
  if (!c || c->resp != RespState::kNone) return false;
  ResponseBegin(c, status, status_len, headers, headers_len, flags, true, body_len);
  ResponseBody(c, body, body_len);
  ResponseFinish(c);
  if (c->body_done) {
    if (!c->processing) ConnectionRequestDone(c, false);
  } else {
    // The app answered before the body arrived: the connection closes after the response
    // (ResponseBegin said "Connection: close"); the request ends when the bytes are out.
    ConnectionRequestDone(c, false);
  }
  FlushSoon(c);
  return true;
}

bool Server::WriteHead(uint32_t id, const char* status, size_t status_len, const char* headers,
                       size_t headers_len, uint32_t flags) {
  JsCallGuard g(this);
  Connection* c = Find(id);
  if (!c || c->resp != RespState::kNone) return false;
  ResponseBegin(c, status, status_len, headers, headers_len, flags, false, 0);
  FlushSoon(c);
  return true;
}

int Server::Write(uint32_t id, const char* data, size_t len) {
  JsCallGuard g(this);
  Connection* c = Find(id);
  if (!c || c->resp != RespState::kStreaming) return -1;
  ResponseBody(c, data, len);
  FlushSoon(c);
  if (c->state == ConnState::kClosed) return -1;
  if (c->out.size() - c->out_off >= kResponseHighWater) {
    c->drain_wanted = true;
    return 0;
  }
  return 1;
}

bool Server::End(uint32_t id, const char* data, size_t len, const char* trailers, size_t trailers_len) {
  JsCallGuard g(this);
  Connection* c = Find(id);
  if (!c || c->resp != RespState::kStreaming) return false;
  ResponseBody(c, data, len);
  ResponseFinish(c, trailers, trailers_len);
  if (!c->processing || !c->body_done) ConnectionRequestDone(c, false);
  FlushSoon(c);
  return true;
}

bool Server::WriteContinue(uint32_t id) {
  JsCallGuard g(this);
  Connection* c = Find(id);
  if (!c || !c->continue_pending || c->resp != RespState::kNone) return false;
  c->continue_pending = false;
  c->out.append("HTTP/1.1 100 Continue\r\n\r\n", 25);
  FlushSoon(c);
  return true;
}

bool Server::Abort(uint32_t id) {
  JsCallGuard g(this);
  Connection* c = Find(id);
  if (!c) return false;
  // The app failed after its first byte: the client must see a broken response, never a
  // silently short one, so the connection is closed (docs/app-contract.md, "Errors").
  c->resp = RespState::kDone;
  c->keep_alive = false;
  ConnectionRequestDone(c, true);
  c->pending_close = true;
  c->state = ConnState::kClosing;
  Defer(c);
  return true;
}

bool Server::PauseInput(uint32_t id) {
  JsCallGuard g(this);
  Connection* c = Find(id);
  if (!c) return false;
  c->input_paused = true;
  if (!c->processing) ConnectionUpdatePoll(c);
  return true;
}

bool Server::ResumeInput(uint32_t id) {
  JsCallGuard g(this);
  Connection* c = Find(id);
  if (!c || !c->input_paused) return false;
  c->input_paused = false;
  // The client could not send while the app held its input: the rate clock starts again.
  c->body_clock_ms = uv_now(loop_);
  c->body_clock_bytes = c->body_received;
  // Buffered body bytes may be waiting in pending_in: process them from the idle callback.
  Defer(c);
  return true;
}

void Server::Log(const char* line, size_t len) {
  log_.AppendLine(line, len);
  if (!in_js_call_) log_.Flush();
}

}  // namespace tsgi
