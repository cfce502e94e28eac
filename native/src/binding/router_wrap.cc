// The JS-visible HTTP router (the --http front, native/src/router/): `new RouterThread(opts)`
// starts a Router on a native thread of its own (router/router_thread.h) and returns once it
// listens. No JS runs per request, nor anywhere on that thread: the master's JS only starts
// it, stops it, reads its counters and polls stopped().
//
// Lifetime: the wrap owns the thread. Destroying the wrap (GC), calling destroy() or the env
// cleanup hook closes every connection and joins the thread, so it never outlives the env.
#include <fcntl.h>
#include <napi.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "binding/exports.h"
#include "binding/js_options.h"
#include "router/router_thread.h"

namespace tsgi {

namespace {

RouterOptions ReadRouterOptions(Napi::Object o) {
  RouterOptions ro;
  ro.buffer_size = GetU32(o, "bufferSize", 8192);
  ro.timeout_ms = static_cast<uint64_t>(GetNum(o, "timeoutMs", 60000));
  ro.keepalive_ms = static_cast<uint64_t>(GetNum(o, "keepaliveMs", 60000));
  ro.keepalive = GetBool(o, "keepalive", true);
  ro.max_chunked_body = static_cast<uint64_t>(GetNum(o, "maxChunkedBody", 1 << 20));
  ro.modifier1 = static_cast<uint8_t>(GetU32(o, "modifier1", 0));
  ro.modifier2 = static_cast<uint8_t>(GetU32(o, "modifier2", 0));
  ro.log_fd = static_cast<int>(GetU32(o, "logFd", 2));
  Napi::Value date = o.Get("logDate").Unwrap();
  ro.log_date = date.IsString();
  if (ro.log_date) ro.log_date_format = date.As<Napi::String>().Utf8Value();
  ro.backlog = static_cast<int>(GetU32(o, "backlog", 1024));
  return ro;
}

RouterBackend ReadBackend(Napi::Object b) {
  RouterBackend backend;
  backend.is_unix = GetBool(b, "unix", false);
  backend.host = GetStr(b, "host");
  backend.port = static_cast<int>(GetU32(b, "port", 0));
  backend.path = GetStr(b, "path");
  backend.name = GetStr(b, "name");
  return backend;
}

// The Router owns the fds it listens on and closes them when it stops or fails to start. It
// gets duplicates of the caller's (close-on-exec, so workers never inherit them), and the
// caller's copies stay valid until the caller closes them. Returns the errno of a failed
// dup, after closing those made.
int DuplicateFds(std::vector<ListenerSpec>* listeners) {
  for (size_t i = 0; i < listeners->size(); i++) {
    int fd = fcntl((*listeners)[i].fd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) {
      int err = errno;
      for (size_t j = 0; j < i; j++) ::close((*listeners)[j].fd);
      return err;
    }
    (*listeners)[i].fd = fd;
  }
  return 0;
}

class RouterThreadWrap : public Napi::ObjectWrap<RouterThreadWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "RouterThread",
                       {InstanceMethod<&RouterThreadWrap::Stop>("stop"),
                        InstanceMethod<&RouterThreadWrap::Stopped>("stopped"),
                        InstanceMethod<&RouterThreadWrap::Active>("active"),
                        InstanceMethod<&RouterThreadWrap::Counters>("counters"),
                        InstanceMethod<&RouterThreadWrap::DestroyJs>("destroy")});
  }

  // new RouterThread({listeners, backend: {unix, host, port, path, name}, bufferSize,
  //                   timeoutMs, keepaliveMs, keepalive, maxChunkedBody, modifier1,
  //                   modifier2, logFd, logDate, backlog})
  explicit RouterThreadWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RouterThreadWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, "RouterThread(options)").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    Napi::Value bv = o.Get("backend").Unwrap();
    if (!bv.IsObject()) {
      Napi::TypeError::New(env, "RouterThread: options.backend is required").ThrowAsJavaScriptException();
      return;
    }
    std::vector<ListenerSpec> listeners = GetListeners(o);
    int err = DuplicateFds(&listeners);
    if (err != 0) {
      Napi::Error::New(
          env, std::string("the HTTP router cannot duplicate its listening sockets: ") + std::strerror(err))
          .ThrowAsJavaScriptException();
      return;
    }
    router_ = std::make_unique<RouterThread>(ReadRouterOptions(o), std::move(listeners),
                                             ReadBackend(bv.As<Napi::Object>()));
    std::string why;
    if (!router_->Start(&why)) {
      router_.reset();
      Napi::Error::New(env, why).ThrowAsJavaScriptException();
      return;
    }
    env_ = env;
    napi_add_env_cleanup_hook(env, &RouterThreadWrap::OnEnvCleanup, this);
  }

  ~RouterThreadWrap() override {
    if (router_) napi_remove_env_cleanup_hook(env_, &RouterThreadWrap::OnEnvCleanup, this);
  }

 private:
  static void OnEnvCleanup(void* arg) {
    RouterThreadWrap* self = static_cast<RouterThreadWrap*>(arg);
    if (self->router_) self->router_->Destroy();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (router_) router_->Stop();
    return info.Env().Undefined();
  }

  Napi::Value Stopped(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), !router_ || router_->stopped());
  }

  Napi::Value Active(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), router_ ? static_cast<double>(router_->active()) : 0);
  }

  Napi::Value Counters(const Napi::CallbackInfo& info) {
    RouterCounters c = router_ ? router_->counters() : RouterCounters();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("sessions", static_cast<double>(c.sessions)).Check();
    o.Set("requests", static_cast<double>(c.requests)).Check();
    o.Set("errors", static_cast<double>(c.errors)).Check();
    o.Set("active", router_ ? static_cast<double>(router_->active()) : 0.0).Check();
    return o;
  }

  // Closes what is left and joins the thread; after stopped() this only joins it.
  Napi::Value DestroyJs(const Napi::CallbackInfo& info) {
    if (router_) router_->Destroy();
    return info.Env().Undefined();
  }

  Napi::Env env_{nullptr};
  std::unique_ptr<RouterThread> router_;
};

}  // namespace

void RegisterRouter(Napi::Env env, Napi::Object exports) {
  exports.Set("RouterThread", RouterThreadWrap::Define(env)).Check();
}

}  // namespace tsgi
