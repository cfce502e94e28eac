// Module init: the only place that lists the addon's exports. Test-only exports start with
// an underscore and are never used by the server itself.
#include <napi.h>

#include "binding/exports.h"

namespace tsgi {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  RegisterServer(env, exports);        // Server, bindSocket, closeFd, errorCatalogue
  RegisterHttpTestApi(env, exports);   // _parseHttpRequest, _decodeChunked
  RegisterUwsgiTestApi(env, exports);  // _parseUwsgi, _encodeUwsgi, _decodePathInfo
  RegisterScoreboard(env, exports);    // createScoreboard, attachScoreboard, scoreboard*
  RegisterRouter(env, exports);        // RouterThread (the --http front)
  RegisterProcessApi(env, exports);    // sdNotify, dup2, strftime
  return exports;
}

}  // namespace tsgi

static Napi::Object InitTsgi(Napi::Env env, Napi::Object exports) {
  return tsgi::Init(env, exports);
}

NODE_API_MODULE(tsgi_native, InitTsgi)
