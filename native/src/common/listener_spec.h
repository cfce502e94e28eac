// What a serving loop needs to know about one listening socket: shared by the worker's
// Server (loop/server.h) and the --http router (router/router.h), so neither pulls in the
// other's header.
#ifndef TSGI_COMMON_LISTENER_SPEC_H_
#define TSGI_COMMON_LISTENER_SPEC_H_

#include <cstdint>
#include <string>

namespace tsgi {

enum class Protocol : uint8_t { kHttp, kUwsgi, kFastcgi, kScgi };

struct ListenerSpec {
  int fd = -1;
  Protocol protocol = Protocol::kHttp;
  bool is_unix = false;
  std::string host;  // default SERVER_NAME when the request has no Host
  std::string port;  // SERVER_PORT ("" for UNIX sockets)
};

}  // namespace tsgi

#endif  // TSGI_COMMON_LISTENER_SPEC_H_
