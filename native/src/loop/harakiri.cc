#include "loop/harakiri.h"

#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "common/errors.h"

namespace tsgi {

namespace {

// Registry of boards, and the watchdog thread that scans it. Process-wide: boards come and
// go with Servers on any thread.
std::mutex g_mu;
std::vector<HarakiriBoard*> g_boards;
std::function<bool(uint64_t, int)> g_handler;
bool g_started = false;

constexpr int kScanIntervalMs = 100;

void WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w <= 0) return;
    p += w;
    n -= static_cast<size_t>(w);
  }
}

struct Victim {
  HarakiriEntry entry;
  int log_fd;
  int core_id;
  uint64_t thread_id;
};

// Runs without g_mu and never touches the board (its thread may tear it down meanwhile).
void Fire(const Victim& v) {
  if (!v.entry.response_started && v.entry.fd >= 0) {
    size_t len = 0;
    const char* bytes = CannedResponse(504, &len);
    ::send(v.entry.fd, bytes, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(v.entry.fd, SHUT_RDWR);
  }
  char line[512];
  int n = snprintf(line, sizeof line,
                   "*** HARAKIRI ON WORKER (pid: %d, core: %d) *** request %.300s took longer than the "
                   "harakiri limit: answered 504, killing the %s\n",
                   static_cast<int>(getpid()), v.core_id, v.entry.what.c_str(),
                   v.thread_id ? "thread" : "worker process");
  if (n > 0) WriteAll(v.log_fd, line, std::min(static_cast<size_t>(n), sizeof line - 1));
  std::function<bool(uint64_t, int)> handler;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    handler = g_handler;
  }
  if (v.thread_id != 0 && handler && handler(v.thread_id, v.core_id)) return;
  // Process mode (or no way to stop one thread): the master respawns the worker.
  ::kill(getpid(), SIGKILL);
}

void WatchdogLoop() {
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(kScanIntervalMs));
    uint64_t now = MonotonicMillis();
    std::vector<Victim> victims;
    {
      std::lock_guard<std::mutex> lock(g_mu);
      for (HarakiriBoard* b : g_boards) {
        Victim v;
        if (!b->fired() && b->Expired(now, &v.entry)) {
          b->set_fired();
          v.log_fd = b->log_fd();
          v.core_id = b->core_id();
          v.thread_id = b->thread_id();
          if (b->kills()) b->kills()->fetch_add(1, std::memory_order_relaxed);
          victims.push_back(std::move(v));
        }
      }
    }
    for (const Victim& v : victims) Fire(v);
  }
}

}  // namespace

uint64_t MonotonicMillis() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

void SetHarakiriHandler(std::function<bool(uint64_t, int)> handler) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_handler = std::move(handler);
}

HarakiriBoard::HarakiriBoard(uint64_t limit_ms, int log_fd, int core_id, uint64_t thread_id,
                             std::atomic<uint64_t>* kills)
    : limit_ms_(limit_ms), log_fd_(log_fd), core_id_(core_id), thread_id_(thread_id), kills_(kills) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_boards.push_back(this);
  if (!g_started) {
    g_started = true;
    std::thread(WatchdogLoop).detach();
  }
}

HarakiriBoard::~HarakiriBoard() {
  std::lock_guard<std::mutex> lock(g_mu);
  g_boards.erase(std::remove(g_boards.begin(), g_boards.end(), this), g_boards.end());
}

void HarakiriBoard::Begin(uint32_t id, int fd, const std::string& method, const std::string& uri) {
  HarakiriEntry e;
  e.id = id;
  e.fd = fd;
  e.deadline_ms = MonotonicMillis() + limit_ms_;
  e.what = method + " " + uri;
  std::lock_guard<std::mutex> lock(mu_);
  entries_.push_back(std::move(e));
}

void HarakiriBoard::ResponseStarted(uint32_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (HarakiriEntry& e : entries_) {
    if (e.id == id) e.response_started = true;
  }
}

void HarakiriBoard::End(uint32_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < entries_.size(); i++) {
    if (entries_[i].id == id) {
      entries_[i] = std::move(entries_.back());
      entries_.pop_back();
      return;
    }
  }
}

bool HarakiriBoard::Expired(uint64_t now_ms, HarakiriEntry* victim) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const HarakiriEntry& e : entries_) {
    if (now_ms >= e.deadline_ms) {
      *victim = e;
      return true;
    }
  }
  return false;
}

}  // namespace tsgi
