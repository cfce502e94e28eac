// Harakiri (uWSGI's --harakiri): a request that runs longer than the limit is answered 504,
// logged, and the app core running it is killed so the slot comes back. The app may be
// stuck in a loop that never returns to the event loop, so the check cannot run on the
// serving thread: one watchdog thread per process scans every registered Server.
//
// Threading: the serving thread adds and removes its in-flight requests under the Server's
// entry mutex (only when --harakiri is on; otherwise nothing here runs). The watchdog thread
// reads them under the same mutex, writes the 504 with send(2) to the stuck request's socket
// (the serving thread is stuck, so nothing else writes to it), and then either calls the
// process's harakiri handler (thread mode: the main thread terminates the stuck thread) or,
// when there is none, kills the whole process with SIGKILL (process mode: the master
// respawns it).
#ifndef TSGI_LOOP_HARAKIRI_H_
#define TSGI_LOOP_HARAKIRI_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace tsgi {

struct HarakiriEntry {
  uint32_t id = 0;
  int fd = -1;
  uint64_t deadline_ms = 0;  // monotonic
  bool response_started = false;
  std::string what;  // "GET /uri" for the log line
};

// The in-flight requests of one Server, shared with the watchdog.
class HarakiriBoard {
 public:
  // `kills` (may be null) is the scoreboard's harakiri_count of this worker slot.
  HarakiriBoard(uint64_t limit_ms, int log_fd, int core_id, uint64_t thread_id, std::atomic<uint64_t>* kills);
  ~HarakiriBoard();
  void Begin(uint32_t id, int fd, const std::string& method, const std::string& uri);
  void ResponseStarted(uint32_t id);
  void End(uint32_t id);

  // Watchdog side. Returns true (and fills the victim) when a request is past its limit.
  bool Expired(uint64_t now_ms, HarakiriEntry* victim);
  int log_fd() const { return log_fd_; }
  int core_id() const { return core_id_; }
  uint64_t thread_id() const { return thread_id_; }
  std::atomic<uint64_t>* kills() const { return kills_; }
  bool fired() const { return fired_; }
  void set_fired() { fired_ = true; }

 private:
  std::mutex mu_;
  std::vector<HarakiriEntry> entries_;
  uint64_t limit_ms_;
  int log_fd_;
  int core_id_;
  uint64_t thread_id_;
  std::atomic<uint64_t>* kills_;
  bool fired_ = false;  // a core is killed once; the board dies with it
};

// The process's handler for thread mode, set from the main thread; called on the watchdog
// thread with the stuck thread's id. Returns false when it cannot act (then the process is
// killed).
void SetHarakiriHandler(std::function<bool(uint64_t thread_id, int core_id)> handler);

uint64_t MonotonicMillis();

}  // namespace tsgi

#endif  // TSGI_LOOP_HARAKIRI_H_
