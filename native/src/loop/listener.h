// Binding listening sockets. tsgi binds its sockets itself (not through libuv or node:net)
// so that the backlog, SO_REUSEADDR, UNIX socket modes and fd inheritance by worker
// processes are under its control. Runs once at startup, on the main thread; blocking.
#ifndef TSGI_LOOP_LISTENER_H_
#define TSGI_LOOP_LISTENER_H_

#include <string>

namespace tsgi {

struct BindRequest {
  bool is_unix = false;
  std::string host;  // numeric or resolvable; "" or "0.0.0.0" = all IPv4 interfaces
  int port = 0;      // 0 = let the kernel choose (the chosen port is reported back)
  std::string path;  // UNIX socket path; a leading '@' means the Linux abstract namespace
  int backlog = 1024;
  int chmod_mode = -1;   // -1: leave the mode the umask gave
  int defer_accept = 0;  // TCP_DEFER_ACCEPT seconds (uWSGI sets it to --socket-timeout); 0 = off
};

struct BindResult {
  int fd = -1;
  int err = 0;        // errno of the failing step when fd < 0
  std::string step;   // which step failed: "resolve", "socket", "bind", "listen", "chmod"
  int port = 0;       // the bound port (TCP)
  int backlog = 0;    // the backlog actually used
  int somaxconn = 0;  // the kernel limit read from /proc (0 if unknown)
};

// Creates, binds and listens. The fd is non-blocking and close-on-exec (a worker process
// receives it through an explicit inheritance, never by accident). A stale UNIX socket
// file (nobody accepting on it) is replaced; a live one is EADDRINUSE.
BindResult BindListener(const BindRequest& req);

}  // namespace tsgi

#endif  // TSGI_LOOP_LISTENER_H_
