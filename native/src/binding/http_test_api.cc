#include "binding/exports.h"
namespace tsgi {
void RegisterHttpTestApi(Napi::Env, Napi::Object) {}
}  // namespace tsgi
