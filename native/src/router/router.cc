#include "router/router.h"

#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "router/session.h"

namespace tsgi {

namespace {

// A listening handle and the spec it serves; the handle is the first member so libuv's
// uv_stream_t* is also the ListenHandle*.
struct ListenHandle {
  RouterStream h;
  Router* router;
  const ListenerSpec* spec;
};

}  // namespace

Router::Router(uv_loop_t* loop, const RouterOptions& opts, std::vector<ListenerSpec> listeners,
               RouterBackend backend)
    : loop_(loop), opts_(opts), listeners_(std::move(listeners)), backend_(std::move(backend)) {
  std::memset(&backend_addr_, 0, sizeof(backend_addr_));
  scratch_meta_.resize((16 + kMaxHeaders) * 4);
}

Router::~Router() { Destroy(); }

bool Router::Start() {
  if (backend_.is_unix) {
    sockaddr_un* un = reinterpret_cast<sockaddr_un*>(&backend_addr_);
    if (backend_.path.size() >= sizeof(un->sun_path)) {
      Log("tsgi http router: the worker socket path " + backend_.name + " is too long");
      return false;
    }
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, backend_.path.data(), backend_.path.size());
    // An abstract name (leading NUL) is exactly its bytes; a path also counts its final NUL.
    bool abstract = !backend_.path.empty() && backend_.path[0] == '\0';
    backend_addr_len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + backend_.path.size() + (abstract ? 0 : 1));
  } else {
    sockaddr_in6* a6 = reinterpret_cast<sockaddr_in6*>(&backend_addr_);
    sockaddr_in* a4 = reinterpret_cast<sockaddr_in*>(&backend_addr_);
    if (uv_ip4_addr(backend_.host.c_str(), backend_.port, a4) == 0) {
      backend_addr_len_ = sizeof(sockaddr_in);
    } else if (uv_ip6_addr(backend_.host.c_str(), backend_.port, a6) == 0) {
      backend_addr_len_ = sizeof(sockaddr_in6);
    } else {
      Log("tsgi http router: the worker socket address " + backend_.name + " is not numeric");
      return false;
    }
  }
  for (const ListenerSpec& spec : listeners_) {
    ListenHandle* lh = new ListenHandle();
    lh->router = this;
    lh->spec = &spec;
    int rc = spec.is_unix ? uv_pipe_init(loop_, &lh->h.pipe, 0) : uv_tcp_init(loop_, &lh->h.tcp);
    if (rc == 0) rc = spec.is_unix ? uv_pipe_open(&lh->h.pipe, spec.fd) : uv_tcp_open(&lh->h.tcp, spec.fd);
    lh->h.handle.data = lh;
    listen_handles_.push_back(&lh->h.stream);
    if (rc == 0) rc = uv_listen(&lh->h.stream, opts_.backlog, &Router::OnConnection);
    if (rc != 0) {
      Log(std::string("tsgi http router: cannot listen on fd ") + std::to_string(spec.fd) + ": " + uv_strerror(rc));
      return false;
    }
  }
  return true;
}

void Router::OnConnection(uv_stream_t* listener, int status) {
  ListenHandle* lh = reinterpret_cast<ListenHandle*>(listener);
  Router* r = lh->router;
  if (status < 0 || r->stopping_) return;
  Session* s = AcceptSession(r, listener, lh->spec);
  if (s == nullptr) return;
  s->index = r->sessions_.size();
  r->sessions_.push_back(s);
  r->counters_.sessions++;
}

void Router::Forget(Session* s) {
  // Swap-remove: the session list has no order.
  size_t i = s->index;
  if (i >= sessions_.size() || sessions_[i] != s) return;
  sessions_[i] = sessions_.back();
  sessions_[i]->index = i;
  sessions_.pop_back();
}

void Router::CloseListeners() {
  for (uv_stream_t* h : listen_handles_) {
    uv_close(reinterpret_cast<uv_handle_t*>(h), [](uv_handle_t* hh) { delete reinterpret_cast<ListenHandle*>(hh); });
  }
  listen_handles_.clear();
}

void Router::Stop() {
  if (stopping_) return;
  stopping_ = true;
  CloseListeners();
  std::vector<Session*> all = sessions_;
  for (Session* s : all) StopSession(s);
}

void Router::Destroy() {
  stopping_ = true;
  CloseListeners();
  std::vector<Session*> all;
  all.swap(sessions_);
  for (Session* s : all) {
    s->router = nullptr;
    CloseSessionNow(s);
  }
}

void Router::Log(const std::string& line) {
  std::string out = line;
  out.push_back('\n');
  const char* p = out.data();
  size_t left = out.size();
  while (left > 0) {
    ssize_t w = ::write(opts_.log_fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    left -= static_cast<size_t>(w);
  }
}

}  // namespace tsgi
