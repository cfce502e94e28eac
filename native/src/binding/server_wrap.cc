// The JS-visible Server object (one per serving thread) and the socket-binding function.
// This file is the only place where the network core meets N-API: it turns JS arguments
// into C++ spans for loop/server_api.cc and turns RequestSink calls into JS calls.
//
// Lifetime: the Server's libuv handles belong to the env's loop; an env cleanup hook
// destroys them before the env goes away, so a worker thread that exits with a live server
// does not abort the process (Node-API docs, napi_add_env_cleanup_hook; docs/threads.md,
// "When a thread dies").
#include <napi.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <uv.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "binding/exports.h"
#include "binding/js_options.h"
#include "binding/scoreboard_wrap.h"
#include "common/errors.h"
#include "common/span.h"
#include "loop/listener.h"
#include "loop/server.h"
#include "proto/http1.h"

namespace tsgi {

namespace {

// Bytes of a JS string (latin1 or utf8) or Uint8Array argument. Strings are copied into a
// per-thread scratch buffer; typed arrays are borrowed for the duration of the call.
struct Bytes {
  const char* data = nullptr;
  size_t len = 0;
};

Bytes ArgBytes(napi_env env, napi_value v, std::string* scratch, bool latin1) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  Bytes b;
  if (t == napi_string) {
    // One copy into a scratch that is usually large enough; only a string that fills it
    // completely costs a second call to learn its real length.
    if (scratch->size() < 4096) scratch->resize(4096);
    size_t len = 0;
    if (latin1)
      napi_get_value_string_latin1(env, v, &(*scratch)[0], scratch->size(), &len);
    else
      napi_get_value_string_utf8(env, v, &(*scratch)[0], scratch->size(), &len);
    if (len + 1 >= scratch->size()) {
      if (latin1)
        napi_get_value_string_latin1(env, v, nullptr, 0, &len);
      else
        napi_get_value_string_utf8(env, v, nullptr, 0, &len);
      scratch->resize(len + 1);
      if (latin1)
        napi_get_value_string_latin1(env, v, &(*scratch)[0], len + 1, &len);
      else
        napi_get_value_string_utf8(env, v, &(*scratch)[0], len + 1, &len);
    }
    b.data = scratch->data();
    b.len = len;
    return b;
  }
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  if (is_ta) {
    napi_typedarray_type tt;
    size_t length = 0, offset = 0;
    void* data = nullptr;
    napi_get_typedarray_info(env, v, &tt, &length, &data, nullptr, &offset);
    b.data = static_cast<const char*>(data);
    b.len = length;  // Uint8Array only: the JS layer never passes other element types
  }
  return b;
}

// Every request with a body allocates a buffer of its length (up to whole_body_max), which
// V8 frees in batches when it collects them. With glibc's default, dynamic thresholds a
// batch of frees at the top of the heap is handed back to the kernel, and the next requests
// fault the same pages in again: ~6 page faults per 64 KiB POST, 5-10 us of system time.
// Keeping up to 32 MiB of freed heap (and serving blocks up to 1 MiB from the heap, not
// mmap) makes that memory reused instead. Process-wide and set once: the worker process
// is tsgi's own. MALLOC_TRIM_THRESHOLD_ / MALLOC_MMAP_THRESHOLD_ in the environment win.
void KeepFreedHeap() {
#if defined(__GLIBC__)
  static std::once_flag once;
  std::call_once(once, [] {
    if (getenv("MALLOC_TRIM_THRESHOLD_") == nullptr) mallopt(M_TRIM_THRESHOLD, 32 << 20);
    if (getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) mallopt(M_MMAP_THRESHOLD, 1 << 20);
  });
#endif
}

class ServerWrap : public Napi::ObjectWrap<ServerWrap>, public RequestSink {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "Server",
        {InstanceMethod<&ServerWrap::Respond>("respond"), InstanceMethod<&ServerWrap::WriteHead>("writeHead"),
         InstanceMethod<&ServerWrap::Write>("write"), InstanceMethod<&ServerWrap::End>("end"),
         InstanceMethod<&ServerWrap::WriteContinue>("writeContinue"),
         InstanceMethod<&ServerWrap::Abort>("abort"), InstanceMethod<&ServerWrap::PauseInput>("pauseInput"),
         InstanceMethod<&ServerWrap::ResumeInput>("resumeInput"), InstanceMethod<&ServerWrap::Log>("log"),
         InstanceMethod<&ServerWrap::Stop>("stop"), InstanceMethod<&ServerWrap::DestroyJs>("destroy"),
         InstanceMethod<&ServerWrap::Counters>("counters"),
         InstanceMethod<&ServerWrap::CountException>("countException")});
  }

  explicit ServerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ServerWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsObject()) {
      Napi::TypeError::New(env, "Server(options, callbacks)").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    Napi::Object cb = info[1].As<Napi::Object>();
    ServerOptions so;
    so.buffer_size = GetU32(o, "bufferSize", 8192);
    so.limit_post = static_cast<uint64_t>(GetNum(o, "limitPost", 0));
    so.socket_timeout_ms = static_cast<uint64_t>(GetNum(o, "socketTimeoutMs", 4000));
    // --http-keepalive-timeout has its one default with the option (src/config/options.ts) and
    // the caller always passes the value: a Server without it is refused, not given a second,
    // competing default here.
    Napi::Value keepalive = o.Get("keepaliveTimeoutMs").Unwrap();
    if (!keepalive.IsNumber()) {
      Napi::TypeError::New(env, "Server options: keepaliveTimeoutMs (milliseconds) is required")
          .ThrowAsJavaScriptException();
      return;
    }
    so.keepalive_timeout_ms = static_cast<uint64_t>(keepalive.As<Napi::Number>().DoubleValue());
    so.post_buffering = static_cast<uint64_t>(GetNum(o, "postBuffering", 0));
    so.min_body_rate = static_cast<uint64_t>(GetNum(o, "minBodyRate", 0));
    so.max_connections = GetU32(o, "maxConnections", 0);
    if (so.max_connections == 0) so.max_connections = DefaultMaxConnections(GetU32(o, "servingThreads", 1));
    so.max_inflight = GetU32(o, "maxInflight", 1);
    so.max_vars = GetU32(o, "maxVars", 256);
    so.logging = GetBool(o, "logging", true);
    so.log_micros = GetBool(o, "logMicros", false);
    so.worker_id = GetU32(o, "workerId", 1);
    Napi::Value date = o.Get("logDate").Unwrap();
    so.log_date = date.IsString();
    if (so.log_date) so.log_date_format = date.As<Napi::String>().Utf8Value();
    // logFormat: [{lit: string} | {var: name} | {capture: VAR_NAME}], validated by the CLI.
    Napi::Value fmt = o.Get("logFormat").Unwrap();
    if (fmt.IsArray()) {
      Napi::Array items = fmt.As<Napi::Array>();
      for (uint32_t i = 0; i < items.Length(); i++) {
        Napi::Object item = items.Get(i).Unwrap().As<Napi::Object>();
        LogItem li;
        if (item.Has("lit").Unwrap()) {
          li.text = GetStr(item, "lit");
        } else if (item.Has("capture").Unwrap()) {
          li.kind = LogVar::kCaptured;
          li.index = static_cast<uint32_t>(so.log_format.captured.size());
          so.log_format.captured.push_back(GetStr(item, "capture"));
        } else if (!LogVarByName(GetStr(item, "var"), &li.kind)) {
          Napi::TypeError::New(env, "logFormat: unknown variable " + GetStr(item, "var"))
              .ThrowAsJavaScriptException();
          return;
        }
        so.log_format.items.push_back(std::move(li));
      }
    }
    Napi::Value when = o.Get("logWhen").Unwrap();
    if (when.IsObject()) {
      Napi::Object w = when.As<Napi::Object>();
      so.log_when.status_4xx = GetBool(w, "status4xx", false);
      so.log_when.status_5xx = GetBool(w, "status5xx", false);
      so.log_when.zero = GetBool(w, "zero", false);
      so.log_when.slow_ms = static_cast<uint64_t>(GetNum(w, "slowMs", 0));
      so.log_when.big_bytes = static_cast<uint64_t>(GetNum(w, "bigBytes", 0));
    }
    so.log_fd = static_cast<int>(GetU32(o, "logFd", 2));
    so.core_id = static_cast<int>(GetU32(o, "coreId", 0));
    so.harakiri_ms = static_cast<uint64_t>(GetNum(o, "harakiriMs", 0));
    so.thread_id = static_cast<uint64_t>(GetNum(o, "threadId", 0));
    scope_per_iteration_ = so.thread_id == 0;
    // {scoreboard: handle, workerIndex, coreIndex}: this Server's slot in the shared
    // scoreboard. The handle is kept referenced so the mapping outlives the Server.
    Napi::Value sbv = o.Get("scoreboard").Unwrap();
    if (!sbv.IsUndefined() && !sbv.IsNull()) {
      if (!ScoreboardSlotFromJs(env, sbv, GetU32(o, "workerIndex", 0), GetU32(o, "coreIndex", 0),
                                &so.scoreboard)) {
        return;
      }
      scoreboard_ref_ = Napi::Persistent(sbv);
    }
    so.raw_headers = GetBool(o, "rawHeaders", false);
    so.continue_by_app = GetBool(o, "continueByApp", false);
    so.whole_body_max = static_cast<size_t>(GetNum(o, "wholeBodyMax", 0));
    if (so.whole_body_max > 0) KeepFreedHeap();
    // Room for the fixed CGI vars plus every header the HTTP parser accepts, and with
    // rawHeaders for every header line again after them; one more for the PATH_INFO derived
    // for a FastCGI or SCGI request that carries --max-vars vars but none (BuildCgiVars).
    size_t meta_vars = (so.max_vars < 16 + kMaxHeaders ? 16 + kMaxHeaders : so.max_vars) + 1;
    if (so.raw_headers) meta_vars += kMaxHeaders;

    std::vector<ListenerSpec> listeners = GetListeners(o);
    Napi::Uint32Array meta = Napi::Uint32Array::New(env, meta_vars * 4);
    meta_ref_ = Napi::Persistent(meta);
    Value().Set("meta", meta).Check();
    on_request_ = Napi::Persistent(cb.Get("onRequest").Unwrap().As<Napi::Function>());
    on_data_ = Napi::Persistent(cb.Get("onData").Unwrap().As<Napi::Function>());
    on_drain_ = Napi::Persistent(cb.Get("onDrain").Unwrap().As<Napi::Function>());
    on_abort_ = Napi::Persistent(cb.Get("onAbort").Unwrap().As<Napi::Function>());
    Napi::Value closed = cb.Get("onClosed").Unwrap();
    if (closed.IsFunction()) on_closed_ = Napi::Persistent(closed.As<Napi::Function>());
    async_ = std::make_unique<Napi::AsyncContext>(env, "tsgi.request", Value());
    env_ = env;
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    check_ = new uv_check_t;
    uv_check_init(loop, check_);
    check_->data = this;
    uv_unref(reinterpret_cast<uv_handle_t*>(check_));
    server_ =
        std::make_unique<Server>(loop, so, std::move(listeners), this, meta.Data(), meta.ElementLength());
    napi_add_env_cleanup_hook(env, &ServerWrap::OnEnvCleanup, this);
    server_->Start();
  }

  ~ServerWrap() override {
    if (server_) {
      Teardown();
      napi_remove_env_cleanup_hook(env_, &ServerWrap::OnEnvCleanup, this);
    }
  }

  static void OnEnvCleanup(void* arg) {
    ServerWrap* self = static_cast<ServerWrap*>(arg);
    self->AbandonScope();
    self->Teardown();
  }

  void Teardown() {
    CloseScope();
    server_->Destroy();
    if (check_) {
      uv_check_stop(check_);
      uv_close(reinterpret_cast<uv_handle_t*>(check_),
               [](uv_handle_t* h) { delete reinterpret_cast<uv_check_t*>(h); });
      check_ = nullptr;
    }
  }

  // --- RequestSink -------------------------------------------------------------------
  // One HandleScope + CallbackScope spans every Server callback of a loop iteration: it
  // opens at the first one and closes in a uv_check callback, which libuv runs right after
  // the poll phase. Closing the outermost callback scope runs queued microtasks and
  // nextTicks, so promise-based apps progress as under node:http, but the cost of entering
  // and leaving JS is paid once per iteration (tens of requests under load) instead of once
  // per socket event.
  void BeginBatch() override {
    if (!scope_open_) {
      handle_scope_ = new Napi::HandleScope(env_);
      callback_scope_ = new Napi::CallbackScope(env_, async_->operator napi_async_context());
      scope_open_ = true;
      if (check_) uv_check_start(check_, &ServerWrap::OnCheck);
    }
  }
  // In worker threads the scope closes at the end of every callback instead: a thread can be
  // stopped between a callback and the uv_check, and an open scope at its env teardown
  // crashes V8 (seen as SIGSEGV in ~Environment when threads exit).
  void EndBatch() override {
    if (!scope_per_iteration_) CloseScope();
  }

  // Closing the outermost callback scope runs the queued microtasks and nextTicks; the
  // scope reopens at once for the rest of the batch. A destroy() from that JS sees
  // `settling_` and leaves the scope and the check handle to their usual owners.
  void Settle() override {
    if (!scope_open_ || settling_) return;
    settling_ = true;
    CloseScope();
    settling_ = false;
    if (server_) BeginBatch();
  }
  void FlushQueuedJs() override { CloseScope(); }
  static void OnCheck(uv_check_t* handle) {
    ServerWrap* self = static_cast<ServerWrap*>(handle->data);
    uv_check_stop(handle);
    self->CloseScope();
  }
  void CloseScope() {
    if (!scope_open_) return;
    scope_open_ = false;
    delete callback_scope_;
    delete handle_scope_;
    callback_scope_ = nullptr;
    handle_scope_ = nullptr;
  }
  // At env teardown the scopes may still be open (the thread was stopped between a Server
  // callback and the uv_check that closes them), and node has opened its own HandleScope
  // for the cleanup on top of ours: closing ours now would break V8's last-in-first-out
  // handle scopes. They are dropped instead; the isolate and its handle blocks go away with
  // the environment.
  void AbandonScope() {
    if (!scope_open_) return;
    scope_open_ = false;
    callback_scope_ = nullptr;
    handle_scope_ = nullptr;
  }
  void OnRequest(uint32_t id, uint32_t flags, const std::string& blob, size_t nvars, const char* body,
                 size_t body_len, const WholeBody* whole) override {
    napi_value args[6];
    size_t argc = 5;
    if (whole != nullptr) {
      napi_get_reference_value(env_, static_cast<napi_ref>(whole->handle), &args[4]);
      if (flags & kReqBodyWhole) {
        napi_create_double(env_, static_cast<double>(whole->filled), &args[5]);
        argc = 6;
      }
    } else {
      args[4] = body ? CopyBytes(body, body_len) : Undefined();
    }
    napi_create_uint32(env_, id, &args[0]);
    napi_create_uint32(env_, flags, &args[1]);
    napi_create_string_latin1(env_, blob.data(), blob.size(), &args[2]);
    napi_create_uint32(env_, static_cast<uint32_t>(nvars), &args[3]);
    Call(on_request_, argc, args);
  }
  void OnData(uint32_t id, const char* data, size_t len, ErrorCode err) override {
    napi_value args[3];
    napi_create_uint32(env_, id, &args[0]);
    args[1] = data ? CopyBytes(data, len) : Null();
    napi_create_uint32(env_, static_cast<uint32_t>(err), &args[2]);
    Call(on_data_, 3, args);
  }
  // onData(id, null, 0, filled): the whole body's buffer holds `filled` bytes now.
  void OnBodyFilled(uint32_t id, size_t filled) override {
    napi_value args[4];
    napi_create_uint32(env_, id, &args[0]);
    args[1] = Null();
    napi_create_uint32(env_, 0, &args[2]);
    napi_create_double(env_, static_cast<double>(filled), &args[3]);
    Call(on_data_, 4, args);
  }
  void ReleaseWholeBody(WholeBody* whole) override {
    if (whole->handle != nullptr) napi_delete_reference(env_, static_cast<napi_ref>(whole->handle));
    *whole = WholeBody{};
  }
  void OnDrain(uint32_t id) override {
    napi_value args[1];
    napi_create_uint32(env_, id, &args[0]);
    Call(on_drain_, 1, args);
  }
  void OnAbort(uint32_t id, ErrorCode err) override {
    napi_value args[2];
    napi_create_uint32(env_, id, &args[0]);
    napi_create_uint32(env_, static_cast<uint32_t>(err), &args[1]);
    Call(on_abort_, 2, args);
  }
  void OnClosed() override {
    if (on_closed_.IsEmpty()) return;
    Call(on_closed_, 0, nullptr);  // always inside a batch (Server::MaybeFinishStop)
  }

 private:
  napi_value Undefined() {
    napi_value v;
    napi_get_undefined(env_, &v);
    return v;
  }
  napi_value Null() {
    napi_value v;
    napi_get_null(env_, &v);
    return v;
  }
  // A Node Buffer (a Uint8Array) with its own memory: node allocates it uninitialised before
  // the copy, where napi_create_arraybuffer zero-fills it first (that memset was 10-13 % of
  // the worker's CPU on 64 KiB POSTs under `perf record`).
  // The whole body's buffer: a Node Buffer of whole->size uninitialised bytes (every one is
  // written before the app sees it), held by a strong reference while native writes into it.
  bool AllocWholeBody(WholeBody* whole, const char* body, size_t body_len) override {
    void* data = nullptr;
    napi_ref ref = nullptr;
    napi_value buf;
    if (napi_create_buffer(env_, whole->size, &data, &buf) != napi_ok) return false;
    if (napi_create_reference(env_, buf, 1, &ref) != napi_ok) return false;
    if (body_len > 0) std::memcpy(data, body, body_len);
    whole->handle = ref;
    whole->data = static_cast<char*>(data);
    whole->filled = body_len;
    return true;
  }
  napi_value CopyBytes(const char* data, size_t len) {
    napi_value buf;
    void* copied = nullptr;
    napi_create_buffer_copy(env_, len, data, &copied, &buf);
    return buf;
  }
  void Call(Napi::FunctionReference& fn, size_t argc, const napi_value* argv) {
    napi_value recv = Undefined(), result;
    napi_status st = napi_call_function(env_, recv, fn.Value(), argc, argv, &result);
    if (st == napi_pending_exception) {
      // The dispatcher catches app errors itself; reaching here is a bug in tsgi, which
      // must surface as an uncaught exception rather than vanish.
      napi_value err;
      napi_get_and_clear_last_exception(env_, &err);
      napi_fatal_exception(env_, err);
    }
  }

  // --- JS methods ----------------------------------------------------------------------
  // respond(id, status, headers, flags, body?): status like "200 OK", headers a block of
  // "Name: value\r\n" lines. Two flat strings: joining them in JS would make V8 flatten a
  // cons string on every response.
  Napi::Value Respond(const Napi::CallbackInfo& info) {
    uint32_t id = info[0].As<Napi::Number>().Uint32Value();
    Bytes status = ArgBytes(info.Env(), info[1], &status_scratch_, true);
    Bytes headers = ArgBytes(info.Env(), info[2], &head_scratch_, true);
    uint32_t flags = info[3].As<Napi::Number>().Uint32Value();
    Bytes body;
    if (info.Length() > 4 && !info[4].IsUndefined())
      body = ArgBytes(info.Env(), info[4], &body_scratch_, false);
    bool ok =
        server_->Respond(id, status.data, status.len, headers.data, headers.len, flags, body.data, body.len);
    return Napi::Boolean::New(info.Env(), ok);
  }
  Napi::Value WriteHead(const Napi::CallbackInfo& info) {
    uint32_t id = info[0].As<Napi::Number>().Uint32Value();
    Bytes status = ArgBytes(info.Env(), info[1], &status_scratch_, true);
    Bytes headers = ArgBytes(info.Env(), info[2], &head_scratch_, true);
    uint32_t flags = info[3].As<Napi::Number>().Uint32Value();
    return Napi::Boolean::New(
        info.Env(), server_->WriteHead(id, status.data, status.len, headers.data, headers.len, flags));
  }
  Napi::Value Write(const Napi::CallbackInfo& info) {
    uint32_t id = info[0].As<Napi::Number>().Uint32Value();
    Bytes b = ArgBytes(info.Env(), info[1], &body_scratch_, false);
    int r = server_->Write(id, b.data, b.len);
    return Napi::Boolean::New(info.Env(), r == 1);
  }
  // end(id, chunk?, trailers?): trailers a block of "Name: value\r\n" lines (latin1),
  // already validated by the app layer as headers are.
  Napi::Value End(const Napi::CallbackInfo& info) {
    uint32_t id = info[0].As<Napi::Number>().Uint32Value();
    Bytes b, t;
    if (info.Length() > 1 && !info[1].IsUndefined()) b = ArgBytes(info.Env(), info[1], &body_scratch_, false);
    if (info.Length() > 2 && info[2].IsString()) t = ArgBytes(info.Env(), info[2], &head_scratch_, true);
    return Napi::Boolean::New(info.Env(), server_->End(id, b.data, b.len, t.data, t.len));
  }
  Napi::Value WriteContinue(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), server_->WriteContinue(info[0].As<Napi::Number>().Uint32Value()));
  }
  Napi::Value Abort(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), server_->Abort(info[0].As<Napi::Number>().Uint32Value()));
  }
  Napi::Value PauseInput(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), server_->PauseInput(info[0].As<Napi::Number>().Uint32Value()));
  }
  Napi::Value ResumeInput(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), server_->ResumeInput(info[0].As<Napi::Number>().Uint32Value()));
  }
  Napi::Value Log(const Napi::CallbackInfo& info) {
    Bytes b = ArgBytes(info.Env(), info[0], &body_scratch_, false);
    server_->Log(b.data, b.len);
    return info.Env().Undefined();
  }
  // stop([fds]): `fds` are descriptors of the same sockets the caller gives up; the Server
  // closes them as it stops (Server::Stop).
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    std::vector<int> give_up;
    if (info.Length() > 0 && info[0].IsArray()) {
      Napi::Array fds = info[0].As<Napi::Array>();
      for (uint32_t i = 0; i < fds.Length(); i++) {
        Napi::Value v = fds.Get(i).Unwrap();
        if (v.IsNumber()) give_up.push_back(v.As<Napi::Number>().Int32Value());
      }
    }
    server_->Stop(give_up);
    return info.Env().Undefined();
  }
  Napi::Value DestroyJs(const Napi::CallbackInfo& info) {
    // JS is on the stack, maybe inside this iteration's scope: a signal handler runs in the
    // poll phase, after a timer callback opened the scope and before the uv_check closes it.
    // Closing it here would pop it from under node's own callback scope (node aborts with
    // "async hook stack has become corrupted"), so the uv_check still closes it; the check
    // handle itself goes at env teardown or with this object.
    if (scope_open_ || settling_) {
      server_->Destroy();
      return info.Env().Undefined();
    }
    Teardown();
    return info.Env().Undefined();
  }
  // countException(): the app threw (or rejected) while serving a request of this core.
  Napi::Value CountException(const Napi::CallbackInfo& info) {
    if (ScoreboardCore* sc = server_->opts().scoreboard.core)
      sc->exceptions.fetch_add(1, std::memory_order_relaxed);
    exceptions_++;
    return info.Env().Undefined();
  }
  Napi::Value Counters(const Napi::CallbackInfo& info) {
    const Server::Counters& c = server_->counters();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("requests", Napi::Number::New(info.Env(), static_cast<double>(c.requests))).Check();
    o.Set("tx", Napi::Number::New(info.Env(), static_cast<double>(c.tx))).Check();
    o.Set("badRequests", Napi::Number::New(info.Env(), static_cast<double>(c.bad_requests))).Check();
    o.Set("connections", Napi::Number::New(info.Env(), static_cast<double>(c.connections))).Check();
    o.Set("inflight", Napi::Number::New(info.Env(), c.inflight)).Check();
    o.Set("open", Napi::Number::New(info.Env(), c.open)).Check();
    o.Set("exceptions", Napi::Number::New(info.Env(), static_cast<double>(exceptions_))).Check();
    return o;
  }

  Napi::Env env_{nullptr};
  std::unique_ptr<Server> server_;
  std::unique_ptr<Napi::AsyncContext> async_;
  Napi::Reference<Napi::Uint32Array> meta_ref_;
  Napi::Reference<Napi::Value> scoreboard_ref_;
  uint64_t exceptions_ = 0;
  Napi::FunctionReference on_request_, on_data_, on_drain_, on_abort_, on_closed_;
  Napi::HandleScope* handle_scope_ = nullptr;      // open from the first callback of a loop
  Napi::CallbackScope* callback_scope_ = nullptr;  // iteration to its uv_check (BeginBatch)
  bool scope_open_ = false;
  bool scope_per_iteration_ = true;  // main thread only (see EndBatch)
  bool settling_ = false;            // inside Settle(): the scope is closing, JS may run
  uv_check_t* check_ = nullptr;
  std::string status_scratch_, head_scratch_, body_scratch_;
};

// bindSocket({unix, host, port, path, backlog, chmod}) -> {fd, port, backlog, somaxconn}
// or {error: errno name, step, message}.
Napi::Value BindSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  BindRequest req;
  req.is_unix = GetBool(o, "unix", false);
  req.host = GetStr(o, "host");
  req.port = static_cast<int>(GetU32(o, "port", 0));
  req.path = GetStr(o, "path");
  req.backlog = static_cast<int>(GetU32(o, "backlog", 1024));
  req.defer_accept = static_cast<int>(GetU32(o, "deferAccept", 0));
  Napi::Value cm = o.Get("chmod").Unwrap();
  if (cm.IsNumber()) req.chmod_mode = static_cast<int>(cm.As<Napi::Number>().Int32Value());
  BindResult r = BindListener(req);
  Napi::Object out = Napi::Object::New(env);
  if (r.fd < 0) {
    out.Set("error", Napi::String::New(env, uv_err_name(-r.err))).Check();
    out.Set("message", Napi::String::New(env, strerror(r.err))).Check();
    out.Set("step", Napi::String::New(env, r.step)).Check();
    return out;
  }
  out.Set("fd", Napi::Number::New(env, r.fd)).Check();
  out.Set("port", Napi::Number::New(env, r.port)).Check();
  out.Set("backlog", Napi::Number::New(env, r.backlog)).Check();
  out.Set("somaxconn", Napi::Number::New(env, r.somaxconn)).Check();
  return out;
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  return Napi::Number::New(info.Env(), close(fd));
}

// errorNames()[code] = "HTTP_CL_AND_TE", so JS can name native error numbers.
Napi::Value ErrorNames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
#define TSGI_EXPORT_ERROR(name, num, status, reason)         \
  {                                                          \
    Napi::Object e = Napi::Object::New(env);                 \
    e.Set("name", Napi::String::New(env, #name)).Check();    \
    e.Set("status", Napi::Number::New(env, status)).Check(); \
    e.Set("reason", Napi::String::New(env, reason)).Check(); \
    o.Set(static_cast<uint32_t>(num), e).Check();            \
  }
  TSGI_ERROR_MAP(TSGI_EXPORT_ERROR)
#undef TSGI_EXPORT_ERROR
  return o;
}

// setHarakiriHandler(fn): fn(threadId, coreId) runs on this (main) thread when the
// watchdog finds a stuck request on a worker thread; it must stop that thread. Without a
// handler, or when this thread is the stuck one, harakiri kills the whole process.
Napi::Value SetHarakiriHandlerJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct Call {
    uint64_t thread_id;
    int core_id;
  };
  auto tsfn = std::make_shared<Napi::ThreadSafeFunction>(
      Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "tsgi.harakiri", 0, 1));
  tsfn->Unref(env);
  SetHarakiriHandler([tsfn](uint64_t thread_id, int core_id) {
    Call* call = new Call{thread_id, core_id};
    napi_status st = tsfn->NonBlockingCall(call, [](Napi::Env env, Napi::Function fn, Call* c) {
      fn.Call(
          {Napi::Number::New(env, static_cast<double>(c->thread_id)), Napi::Number::New(env, c->core_id)});
      delete c;
    });
    if (st != napi_ok) delete call;
    return st == napi_ok;
  });
  return env.Undefined();
}

}  // namespace

void RegisterServer(Napi::Env env, Napi::Object exports) {
  exports.Set("Server", ServerWrap::Define(env)).Check();
  exports.Set("bindSocket", Napi::Function::New(env, BindSocket)).Check();
  exports.Set("closeFd", Napi::Function::New(env, CloseFd)).Check();
  exports.Set("errorCatalogue", Napi::Function::New(env, ErrorNames)).Check();
  exports.Set("setHarakiriHandler", Napi::Function::New(env, SetHarakiriHandlerJs)).Check();
}

}  // namespace tsgi
