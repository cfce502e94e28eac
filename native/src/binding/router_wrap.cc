// The JS-visible Router (the --http front, native/src/router/). No JS runs per request: the
// router process's JS only starts it, stops it and reads its counters.
//
// Lifetime: the router's libuv handles belong to the env's loop; an env cleanup hook closes
// them before the env goes away.
#include <napi.h>
#include <uv.h>

#include <memory>

#include "binding/exports.h"
#include "binding/js_options.h"
#include "router/router.h"

namespace tsgi {

namespace {

class RouterWrap : public Napi::ObjectWrap<RouterWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "Router",
        {InstanceMethod<&RouterWrap::Stop>("stop"), InstanceMethod<&RouterWrap::Active>("active"),
         InstanceMethod<&RouterWrap::Counters>("counters"),
         InstanceMethod<&RouterWrap::DestroyJs>("destroy")});
  }

  // new Router({listeners, backend: {unix, host, port, path, name}, bufferSize, timeoutMs,
  //             keepaliveMs, keepalive, maxChunkedBody, modifier1, modifier2, logFd, backlog})
  explicit RouterWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RouterWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, "Router(options)").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
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
    RouterBackend backend;
    Napi::Value bv = o.Get("backend").Unwrap();
    if (!bv.IsObject()) {
      Napi::TypeError::New(env, "Router: options.backend is required").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object b = bv.As<Napi::Object>();
    backend.is_unix = GetBool(b, "unix", false);
    backend.host = GetStr(b, "host");
    backend.port = static_cast<int>(GetU32(b, "port", 0));
    backend.path = GetStr(b, "path");
    backend.name = GetStr(b, "name");
    env_ = env;
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    router_ = std::make_unique<Router>(loop, ro, GetListeners(o), std::move(backend));
    napi_add_env_cleanup_hook(env, &RouterWrap::OnEnvCleanup, this);
    if (!router_->Start()) {
      Napi::Error::New(env, "the HTTP router cannot start (see the log line above)")
          .ThrowAsJavaScriptException();
    }
  }

  ~RouterWrap() override {
    if (router_) napi_remove_env_cleanup_hook(env_, &RouterWrap::OnEnvCleanup, this);
  }

 private:
  static void OnEnvCleanup(void* arg) {
    RouterWrap* self = static_cast<RouterWrap*>(arg);
    if (self->router_) self->router_->Destroy();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    router_->Stop();
    return info.Env().Undefined();
  }

  Napi::Value Active(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(router_->active()));
  }

  Napi::Value Counters(const Napi::CallbackInfo& info) {
    const RouterCounters& c = router_->counters();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("sessions", static_cast<double>(c.sessions)).Check();
    o.Set("requests", static_cast<double>(c.requests)).Check();
    o.Set("errors", static_cast<double>(c.errors)).Check();
    o.Set("active", static_cast<double>(router_->active())).Check();
    return o;
  }

  Napi::Value DestroyJs(const Napi::CallbackInfo& info) {
    router_->Destroy();
    return info.Env().Undefined();
  }

  Napi::Env env_{nullptr};
  std::unique_ptr<Router> router_;
};

}  // namespace

void RegisterRouter(Napi::Env env, Napi::Object exports) {
  exports.Set("Router", RouterWrap::Define(env)).Check();
}

}  // namespace tsgi
