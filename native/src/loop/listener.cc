#include "loop/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstring>

namespace tsgi {

namespace {

int ReadSomaxconn() {
  FILE* f = fopen("/proc/sys/net/core/somaxconn", "r");
  if (!f) return 0;
  int v = 0;
  if (fscanf(f, "%d", &v) != 1) v = 0;
  fclose(f);
  return v;
}

BindResult Fail(BindResult r, const char* step, int fd) {
  r.err = errno;
  r.step = step;
  if (fd >= 0) close(fd);
  r.fd = -1;
  return r;
}

// Backlog: uWSGI aborts when --listen exceeds net.core.somaxconn; we clamp and let the
// caller warn (docs/config.md, `listen`).
void ApplyBacklog(BindResult* r, int wanted) {
  r->somaxconn = ReadSomaxconn();
  r->backlog = wanted;
  if (r->somaxconn > 0 && wanted > r->somaxconn) r->backlog = r->somaxconn;
}

BindResult BindUnix(const BindRequest& req) {
  BindResult r;
  sockaddr_un sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (req.path.size() >= sizeof sa.sun_path) {
    errno = ENAMETOOLONG;
    return Fail(r, "bind", -1);
  }
  std::memcpy(sa.sun_path, req.path.data(), req.path.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + req.path.size());
  bool abstract = !req.path.empty() && req.path[0] == '@';
  if (abstract)
    sa.sun_path[0] = '\0';
  else
    len += 1;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(r, "socket", -1);
  if (!abstract) {
    struct stat st;
    if (stat(req.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      bool live = probe >= 0 && connect(probe, reinterpret_cast<sockaddr*>(&sa), len) == 0;
      if (probe >= 0) close(probe);
      if (live) {
        errno = EADDRINUSE;
        return Fail(r, "bind", fd);
      }
      unlink(req.path.c_str());
    }
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), len) < 0) return Fail(r, "bind", fd);
  if (!abstract && req.chmod_mode >= 0 && chmod(req.path.c_str(), static_cast<mode_t>(req.chmod_mode)) < 0) {
    return Fail(r, "chmod", fd);
  }
  ApplyBacklog(&r, req.backlog);
  if (listen(fd, r.backlog) < 0) return Fail(r, "listen", fd);
  r.fd = fd;
  return r;
}

BindResult BindTcp(const BindRequest& req) {
  BindResult r;
  addrinfo hints;
  std::memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  char port[16];
  snprintf(port, sizeof port, "%d", req.port);
  const char* host = req.host.empty() ? "0.0.0.0" : req.host.c_str();
  addrinfo* res = nullptr;
  int gai = getaddrinfo(host, port, &hints, &res);
  if (gai != 0 || !res) {
    errno = EADDRNOTAVAIL;
    return Fail(r, "resolve", -1);
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    freeaddrinfo(res);
    return Fail(r, "socket", -1);
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // Accepted sockets inherit TCP_NODELAY from the listener on Linux, which saves a
  // setsockopt(2) per connection; responses are written whole, Nagle only adds latency.
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // Like uWSGI (core/socket.c, unless --no-defer-accept): a connection is handed to accept()
  // once its first bytes arrived, so silent connections cost the kernel, not a worker, and
  // the first read after accept almost always finds the request.
  if (req.defer_accept > 0) {
    setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &req.defer_accept, sizeof req.defer_accept);
  }
  if (bind(fd, res->ai_addr, res->ai_addrlen) < 0) {
    freeaddrinfo(res);
    return Fail(r, "bind", fd);
  }
  freeaddrinfo(res);
  ApplyBacklog(&r, req.backlog);
  if (listen(fd, r.backlog) < 0) return Fail(r, "listen", fd);
  sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &sl) == 0) {
    if (ss.ss_family == AF_INET)
      r.port = ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    else if (ss.ss_family == AF_INET6)
      r.port = ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  }
  r.fd = fd;
  return r;
}

}  // namespace

BindResult BindListener(const BindRequest& req) {
  return req.is_unix ? BindUnix(req) : BindTcp(req);
}

}  // namespace tsgi
