// Registration functions of every binding file; called only from addon.cc.
#ifndef TSGI_BINDING_EXPORTS_H_
#define TSGI_BINDING_EXPORTS_H_

#include <napi.h>

namespace tsgi {

void RegisterServer(Napi::Env env, Napi::Object exports);
void RegisterHttpTestApi(Napi::Env env, Napi::Object exports);
void RegisterUwsgiTestApi(Napi::Env env, Napi::Object exports);
void RegisterScoreboard(Napi::Env env, Napi::Object exports);
void RegisterRouter(Napi::Env env, Napi::Object exports);
void RegisterProcessApi(Napi::Env env, Napi::Object exports);

}  // namespace tsgi

#endif  // TSGI_BINDING_EXPORTS_H_
