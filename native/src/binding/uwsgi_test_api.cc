#include "binding/exports.h"
namespace tsgi {
void RegisterUwsgiTestApi(Napi::Env, Napi::Object) {}
}  // namespace tsgi
