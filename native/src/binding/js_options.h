// Reading plain option objects passed from JS: a missing or mistyped key gives the default.
#ifndef TSGI_BINDING_JS_OPTIONS_H_
#define TSGI_BINDING_JS_OPTIONS_H_

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "loop/server.h"

namespace tsgi {

inline uint32_t GetU32(Napi::Object o, const char* key, uint32_t def) {
  Napi::Value v = o.Get(key).Unwrap();
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : def;
}
inline double GetNum(Napi::Object o, const char* key, double def) {
  Napi::Value v = o.Get(key).Unwrap();
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : def;
}
inline bool GetBool(Napi::Object o, const char* key, bool def) {
  Napi::Value v = o.Get(key).Unwrap();
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : def;
}
inline std::string GetStr(Napi::Object o, const char* key) {
  Napi::Value v = o.Get(key).Unwrap();
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

// options.listeners: [{fd, protocol: 'http' | 'uwsgi' | 'fastcgi' | 'scgi', unix, host, port}].
inline std::vector<ListenerSpec> GetListeners(Napi::Object o) {
  std::vector<ListenerSpec> listeners;
  Napi::Value lv = o.Get("listeners").Unwrap();
  if (!lv.IsArray()) return listeners;
  Napi::Array arr = lv.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Object l = arr.Get(i).Unwrap().As<Napi::Object>();
    ListenerSpec spec;
    spec.fd = static_cast<int>(GetU32(l, "fd", 0));
    std::string protocol = GetStr(l, "protocol");
    spec.protocol = protocol == "uwsgi"     ? Protocol::kUwsgi
                    : protocol == "fastcgi" ? Protocol::kFastcgi
                    : protocol == "scgi"    ? Protocol::kScgi
                                            : Protocol::kHttp;
    spec.is_unix = GetBool(l, "unix", false);
    spec.host = GetStr(l, "host");
    spec.port = GetStr(l, "port");
    listeners.push_back(spec);
  }
  return listeners;
}

}  // namespace tsgi

#endif  // TSGI_BINDING_JS_OPTIONS_H_
