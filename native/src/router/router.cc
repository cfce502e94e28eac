#include "router/router.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <ctime>

#include "router/session.h"

namespace tsgi {

namespace {

// How often accept is tried again while the router is out of descriptors, and how often at
// most that condition is logged (with the count of failed attempts since the last line).
constexpr uint64_t kAcceptRetryMs = 100;
constexpr uint64_t kAcceptLogMs = 5000;
// Connections taken per readable event, so one busy listener cannot starve the others.
constexpr int kAcceptBatch = 64;

bool OutOfDescriptors(int err) {
  return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

}  // namespace

// A listening socket and the spec it serves. The router accepts itself (accept4 when the fd
// is readable) rather than through uv_listen: on EMFILE libuv accepts and closes every
// pending connection with its reserve descriptor (uv__emfile_trick), so clients are reset
// instead of waiting for a descriptor to be freed, and nothing is logged.
struct Router::ListenHandle {
  uv_poll_t poll;  // first member: the uv_poll_t* is the ListenHandle*
  Router* router;
  const ListenerSpec* spec;
  int fd;
};

Router::Router(uv_loop_t* loop, const RouterOptions& opts, std::vector<ListenerSpec> listeners,
               RouterBackend backend)
    : loop_(loop), opts_(opts), listeners_(std::move(listeners)), backend_(std::move(backend)) {
  std::memset(&backend_addr_, 0, sizeof(backend_addr_));
  scratch_meta_.resize((16 + kMaxHeaders) * 4);
}

Router::~Router() {
  Destroy();
}

bool Router::ResolveBackend() {
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
    backend_addr_len_ =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + backend_.path.size() + (abstract ? 0 : 1));
    return true;
  }
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
  return true;
}

// listen(2) again with --listen (the master bound the socket and may have listened with
// another backlog), then poll it. Once a ListenHandle holds the fd, CloseListeners closes it.
bool Router::Watch(const ListenerSpec& spec) {
  if (::listen(spec.fd, opts_.backlog) != 0) {
    Log(std::string("tsgi http router: cannot listen on fd ") + std::to_string(spec.fd) + ": " +
        std::strerror(errno));
    return false;
  }
  ListenHandle* lh = new ListenHandle();
  lh->router = this;
  lh->spec = &spec;
  lh->fd = spec.fd;
  int rc = uv_poll_init(loop_, &lh->poll, spec.fd);  // also makes the fd non-blocking
  if (rc != 0) {
    delete lh;
    Log(std::string("tsgi http router: cannot watch fd ") + std::to_string(spec.fd) + ": " + uv_strerror(rc));
    return false;
  }
  lh->poll.data = lh;
  listen_handles_.push_back(lh);
  rc = uv_poll_start(&lh->poll, UV_READABLE, &Router::OnListenReadable);
  if (rc != 0) {
    Log(std::string("tsgi http router: cannot watch fd ") + std::to_string(spec.fd) + ": " + uv_strerror(rc));
    return false;
  }
  return true;
}

bool Router::Start() {
  accept_timer_ = new uv_timer_t();
  uv_timer_init(loop_, accept_timer_);
  accept_timer_->data = this;
  bool ok = ResolveBackend();
  for (size_t i = 0; ok && i < listeners_.size(); i++) ok = Watch(listeners_[i]);
  if (ok) return true;
  // The fds no ListenHandle holds are closed here; the others go with CloseListeners.
  for (size_t i = 0; i < listeners_.size(); i++) {
    bool held = false;
    for (ListenHandle* lh : listen_handles_) held = held || lh->fd == listeners_[i].fd;
    if (!held) ::close(listeners_[i].fd);
  }
  return false;
}

void Router::OnListenReadable(uv_poll_t* poll, int status, int) {
  ListenHandle* lh = reinterpret_cast<ListenHandle*>(poll);
  if (status < 0 || lh->router->stopping_) return;
  lh->router->AcceptFrom(lh);
}

void Router::AcceptFrom(ListenHandle* lh) {
  for (int i = 0; i < kAcceptBatch && !stopping_ && !accept_paused_; i++) {
    int fd = ::accept4(lh->fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == EINTR || err == ECONNABORTED) continue;
      if (OutOfDescriptors(err)) PauseAccepting(err);
      // EAGAIN: the backlog is empty. Anything else is the connection's own failure.
      return;
    }
    Session* s = AcceptSession(this, fd, lh->spec);
    if (s == nullptr) continue;
    s->index = sessions_.size();
    sessions_.push_back(s);
    counters_.sessions++;
  }
}

// Out of descriptors: stop polling the listeners (a readable listener would wake the loop
// for nothing, over and over: the spin the issue measured) and let the connections wait in
// the backlog until a session closes or the retry timer fires. One log line per
// kAcceptLogMs at most, counting the failures it stands for.
void Router::PauseAccepting(int err) {
  accept_failures_++;
  if (!accept_paused_) {
    accept_paused_ = true;
    for (ListenHandle* lh : listen_handles_) uv_poll_stop(&lh->poll);
    uv_timer_start(accept_timer_, &Router::OnAcceptRetry, kAcceptRetryMs, 0);
  }
  uint64_t now = uv_now(loop_);
  if (accept_logged_at_ != 0 && now - accept_logged_at_ < kAcceptLogMs) return;
  std::string count;
  if (accept_logged_at_ != 0)
    count = " (" + std::to_string(accept_failures_) + " times since the previous such line)";
  accept_logged_at_ = now;
  Log(std::string("tsgi http router: accept() failed: ") + std::strerror(err) + count + "; " +
      std::to_string(sessions_.size()) +
      " client connections open; new connections wait in the backlog until a descriptor is free");
  accept_failures_ = 0;
}

void Router::OnAcceptRetry(uv_timer_t* t) {
  Router* r = static_cast<Router*>(t->data);
  if (r->accept_paused_ && !r->stopping_) r->ResumeAccepting();
}

void Router::ResumeAccepting() {
  accept_paused_ = false;
  uv_timer_stop(accept_timer_);
  for (ListenHandle* lh : listen_handles_) uv_poll_start(&lh->poll, UV_READABLE, &Router::OnListenReadable);
}

void Router::Forget(Session* s) {
  // Swap-remove: the session list has no order.
  size_t i = s->index;
  if (i >= sessions_.size() || sessions_[i] != s) return;
  sessions_[i] = sessions_.back();
  sessions_[i]->index = i;
  sessions_.pop_back();
  if (accept_paused_ && !stopping_) ResumeAccepting();
}

void Router::CloseListeners() {
  for (ListenHandle* lh : listen_handles_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&lh->poll), [](uv_handle_t* h) {
      ListenHandle* l = reinterpret_cast<ListenHandle*>(h);
      ::close(l->fd);  // the router's own duplicate: the master keeps its copy
      delete l;
    });
  }
  listen_handles_.clear();
  if (accept_timer_ != nullptr) {
    uv_close(reinterpret_cast<uv_handle_t*>(accept_timer_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    accept_timer_ = nullptr;
  }
  accept_paused_ = false;
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
  WriteRouterLog(opts_, line);
}

void WriteRouterLog(const RouterOptions& opts, const std::string& line) {
  std::string out;
  if (opts.log_date) {
    time_t now = time(nullptr);
    struct tm tm;
    localtime_r(&now, &tm);
    char date[128];
    size_t n =
        strftime(date, sizeof date,
                 opts.log_date_format.empty() ? "%a %b %e %H:%M:%S %Y" : opts.log_date_format.c_str(), &tm);
    out.assign(date, n);
    out.append(" - ", 3);
  }
  out.append(line);
  out.push_back('\n');
  const char* p = out.data();
  size_t left = out.size();
  while (left > 0) {
    ssize_t w = ::write(opts.log_fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    left -= static_cast<size_t>(w);
  }
}

}  // namespace tsgi
