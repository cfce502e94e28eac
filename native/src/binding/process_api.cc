// Process-level calls Node does not offer, used on a main thread a few times per start,
// reload, log rotation and stop:
//   sdNotify(socketPath, message): one datagram to systemd's notification socket (sd_notify(3):
//     $NOTIFY_SOCKET is a UNIX datagram socket path, or an abstract name with a leading '@');
//   dup2(oldfd, newfd): --log-reopen and --log-maxsize point an open log fd at a new file;
//   strftime(format, epochSeconds): --log-date's prefix in local time, as the native log has it.
#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <string>

#include "binding/exports.h"

namespace tsgi {

namespace {

// Returns "" on success, else the reason.
std::string SendNotify(const std::string& path, const std::string& message) {
  sockaddr_un addr;
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) return "NOTIFY_SOCKET is empty or too long";
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // the abstract namespace
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::strerror(errno);
  ssize_t sent;
  do {
    sent =
        ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len);
  } while (sent < 0 && errno == EINTR);
  std::string err = sent < 0 ? std::strerror(errno) : "";
  ::close(fd);
  return err;
}

Napi::Value SdNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) {
    Napi::TypeError::New(env, "sdNotify(socketPath, message)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string err =
      SendNotify(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value());
  return err.empty() ? env.Null() : Napi::String::New(env, err);
}

Napi::Value Dup2(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "dup2(oldfd, newfd)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int from = info[0].As<Napi::Number>().Int32Value();
  int to = info[1].As<Napi::Number>().Int32Value();
  int r;
  do {
    r = ::dup2(from, to);
  } while (r < 0 && errno == EINTR);
  return r < 0 ? Napi::String::New(env, std::strerror(errno)) : env.Null();
}

Napi::Value Strftime(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "strftime(format, epochSeconds)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string format = info[0].As<Napi::String>().Utf8Value();
  time_t when = static_cast<time_t>(info[1].As<Napi::Number>().Int64Value());
  struct tm tm;
  localtime_r(&when, &tm);
  char out[256];
  size_t n = ::strftime(out, sizeof out, format.c_str(), &tm);
  return Napi::String::New(env, out, n);
}

}  // namespace

void RegisterProcessApi(Napi::Env env, Napi::Object exports) {
  exports.Set("sdNotify", Napi::Function::New(env, SdNotify)).Check();
  exports.Set("dup2", Napi::Function::New(env, Dup2)).Check();
  exports.Set("strftime", Napi::Function::New(env, Strftime)).Check();
}

}  // namespace tsgi
