// A Router on a native thread of its own, with a libuv loop of its own, inside the process
// that creates it (the master, for --http). No JS runs on that thread: the router never
// needed any per request, and keeping V8 out is what makes it cost a thread instead of a
// Node process (docs/router.md, "Processes and threads").
//
// Which thread owns what:
//   - the owner thread (the JS thread that called Start) owns this object and is the only
//     one to call its public methods;
//   - the router thread owns loop_, router_, async_ and check_ from Start's handshake until
//     it returns; nothing else touches them (the Router stays single-threaded);
//   - they meet in mu_ (pending commands, whether the loop still takes them) and in the
//     atomics below, which the router thread publishes once per loop iteration.
// Commands cross over through async_, a uv_async_t on the router loop, the one libuv call
// that is safe from another thread.
#ifndef TSGI_ROUTER_ROUTER_THREAD_H_
#define TSGI_ROUTER_ROUTER_THREAD_H_

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "router/router.h"

namespace tsgi {

class RouterThread {
 public:
  RouterThread(const RouterOptions& opts, std::vector<ListenerSpec> listeners, RouterBackend backend);
  // Destroys the router and joins the thread if the owner has not: a thread must not
  // outlive the Node environment that loaded this code.
  ~RouterThread();
  RouterThread(const RouterThread&) = delete;
  RouterThread& operator=(const RouterThread&) = delete;

  // Starts the thread and waits until the Router listens. On failure the Router has logged
  // why, the thread is joined and *error says what failed.
  bool Start(std::string* error);
  // Graceful: stop accepting, finish the connections held; the loop then ends on its own.
  void Stop();
  // Closes every connection now, then joins the thread. Safe to call more than once.
  void Destroy();
  // The router loop has ended: every connection is closed and the thread is exiting.
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }
  // Joins the thread once stopped() (or after Destroy); a no-op when already joined.
  void Join();

  size_t active() const { return active_.load(std::memory_order_relaxed); }
  RouterCounters counters() const;

 private:
  enum Command : unsigned { kStop = 1, kDestroy = 2 };
  void Post(Command c);
  void Run();
  bool Open(std::string* error);
  void Close();
  void Publish();
  static void OnAsync(uv_async_t* a);
  static void OnCheck(uv_check_t* c);

  RouterOptions opts_;
  std::vector<ListenerSpec> listeners_;
  RouterBackend backend_;
  // --- owner thread only --------------------------------------------------------------
  uv_thread_t thread_;
  bool joinable_ = false;

  // --- the start handshake: written by the router thread before it posts started_, read
  // by the owner after it has waited for it ------------------------------------------------
  uv_sem_t started_;
  bool start_ok_ = false;
  std::string start_error_;

  // --- router thread only -------------------------------------------------------------
  uv_loop_t loop_;
  std::unique_ptr<Router> router_;
  uv_async_t async_;
  uv_check_t check_;  // publishes the counters after every loop iteration

  // --- shared --------------------------------------------------------------------------
  std::mutex mu_;
  unsigned pending_ = 0;       // Command bits not yet seen by the router thread (mu_)
  bool taking_posts_ = false;  // async_ is open and may be signalled (mu_)
  std::atomic<bool> stopped_{false};
  std::atomic<uint64_t> active_{0};
  std::atomic<uint64_t> sessions_{0};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> errors_{0};
};

}  // namespace tsgi

#endif  // TSGI_ROUTER_ROUTER_THREAD_H_
