#include "router/router_thread.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <utility>

namespace tsgi {

namespace {

// Shown in /proc/PID/task/TID/comm and by `top -H` (at most 15 characters on Linux).
constexpr char kThreadName[] = "tsgi router";

}  // namespace

RouterThread::RouterThread(const RouterOptions& opts, std::vector<ListenerSpec> listeners,
                           RouterBackend backend)
    : opts_(opts), listeners_(std::move(listeners)), backend_(std::move(backend)) {}

RouterThread::~RouterThread() {
  Destroy();
}

bool RouterThread::Start(std::string* error) {
  if (uv_sem_init(&started_, 0) != 0) {
    *error = "cannot create a semaphore for the router thread";
    return false;
  }
  // The thread starts with every signal blocked, so the kernel delivers each signal to the
  // JS thread, whose libuv handlers turn it into an event; the router loop is never
  // interrupted and never runs a handler.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  int rc = uv_thread_create(
      &thread_, [](void* arg) { static_cast<RouterThread*>(arg)->Run(); }, this);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (rc != 0) {
    uv_sem_destroy(&started_);
    *error = std::string("cannot start the router thread: ") + uv_strerror(rc);
    return false;
  }
  joinable_ = true;
  uv_sem_wait(&started_);  // Run has set start_ok_ and start_error_ before posting
  uv_sem_destroy(&started_);
  if (!start_ok_) {
    Join();
    *error = start_error_;
  }
  return start_ok_;
}

void RouterThread::Stop() {
  Post(kStop);
}

void RouterThread::Destroy() {
  Post(kDestroy);
  Join();
}

void RouterThread::Join() {
  if (!joinable_) return;
  uv_thread_join(&thread_);
  joinable_ = false;
}

RouterCounters RouterThread::counters() const {
  RouterCounters c;
  c.sessions = sessions_.load(std::memory_order_relaxed);
  c.requests = requests_.load(std::memory_order_relaxed);
  c.errors = errors_.load(std::memory_order_relaxed);
  return c;
}

void RouterThread::Post(Command c) {
  std::lock_guard<std::mutex> lock(mu_);
  // Once the router thread has stopped taking posts, async_ may be closed or gone.
  if (!taking_posts_) return;
  pending_ |= c;
  uv_async_send(&async_);
}

// --- router thread --------------------------------------------------------------------

void RouterThread::Run() {
#ifdef __linux__
  pthread_setname_np(pthread_self(), kThreadName);
#endif
  start_ok_ = Open(&start_error_);
  uv_sem_post(&started_);  // the owner reads start_ok_ only after this
  if (!start_ok_) return;
  uv_run(&loop_, UV_RUN_DEFAULT);
  Close();
}

bool RouterThread::Open(std::string* error) {
  int rc = uv_loop_init(&loop_);
  if (rc == 0) {
    rc = uv_async_init(&loop_, &async_, &RouterThread::OnAsync);
    if (rc != 0) uv_loop_close(&loop_);
  }
  if (rc != 0) {
    // No Router took the listener fds: they are closed here, as a failed Start would.
    for (const ListenerSpec& spec : listeners_) ::close(spec.fd);
    *error = std::string("cannot create the router loop: ") + uv_strerror(rc);
    stopped_.store(true, std::memory_order_release);
    return false;
  }
  // Neither handle keeps the loop alive: after a graceful Stop the loop ends by itself once
  // the last connection is closed.
  async_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&async_));
  uv_check_init(&loop_, &check_);
  check_.data = this;
  uv_check_start(&check_, &RouterThread::OnCheck);
  uv_unref(reinterpret_cast<uv_handle_t*>(&check_));
  router_ = std::make_unique<Router>(&loop_, opts_, std::move(listeners_), std::move(backend_));
  {
    std::lock_guard<std::mutex> lock(mu_);
    taking_posts_ = true;
  }
  if (!router_->Start()) {
    *error = "the HTTP router cannot start (see the log line above)";
    Close();
    return false;
  }
  return true;
}

// Ends the loop's life on this thread: every handle is closed and its close callback has
// run before uv_loop_close, and no post can reach async_ any more.
void RouterThread::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    taking_posts_ = false;
    pending_ = 0;
  }
  router_->Destroy();
  Publish();
  router_.reset();
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop_) != 0) {
    // A handle left open is a bug here; the loop's memory is this object's and stays valid,
    // so it is only reported.
    WriteRouterLog(opts_, "tsgi http router: the router loop still had open handles at exit");
  }
  stopped_.store(true, std::memory_order_release);
}

void RouterThread::Publish() {
  const RouterCounters& c = router_->counters();
  sessions_.store(c.sessions, std::memory_order_relaxed);
  requests_.store(c.requests, std::memory_order_relaxed);
  errors_.store(c.errors, std::memory_order_relaxed);
  active_.store(router_->active(), std::memory_order_relaxed);
}

void RouterThread::OnAsync(uv_async_t* a) {
  RouterThread* self = static_cast<RouterThread*>(a->data);
  unsigned commands;
  {
    std::lock_guard<std::mutex> lock(self->mu_);
    commands = self->pending_;
    self->pending_ = 0;
  }
  if (commands & kDestroy) {
    self->router_->Destroy();
  } else if (commands & kStop) {
    self->router_->Stop();
  }
}

void RouterThread::OnCheck(uv_check_t* c) {
  static_cast<RouterThread*>(c->data)->Publish();
}

}  // namespace tsgi
