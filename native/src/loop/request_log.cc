#include "loop/request_log.h"

#include <errno.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace tsgi {

namespace {
// Above this many unwritten bytes (a log pipe nobody drains) new lines are dropped and
// counted instead of growing memory without bound.
constexpr size_t kMaxPending = 4 << 20;
}  // namespace

const char* RequestLog::CTime(time_t sec) {
  if (sec != cached_sec_) {
    struct tm tm;
    localtime_r(&sec, &tm);
    // uWSGI prints ctime() truncated to 24 characters: "Thu Nov 26 13:37:38 2026".
    strftime(cached_ctime_, sizeof cached_ctime_, "%a %b %e %H:%M:%S %Y", &tm);
    cached_sec_ = sec;
  }
  return cached_ctime_;
}

void RequestLog::Append(const RequestLogEntry& e) {
  if (buf_.size() > kMaxPending) {
    dropped_++;
    return;
  }
  uint64_t elapsed = e.end_us > e.start_us ? e.end_us - e.start_us : 0;
  uint64_t shown = micros_ ? elapsed : elapsed / 1000;
  char line[4096];
  int n = snprintf(line, sizeof line,
                   "[pid: %d|app: 0|req: %llu/%llu] %s () {%u vars in %u bytes} [%.24s] %s %s => "
                   "generated %llu bytes in %llu %s (%s %u) %u headers in %llu bytes "
                   "(1 switches on core %d)\n",
                   static_cast<int>(getpid()), static_cast<unsigned long long>(e.request_number),
                   static_cast<unsigned long long>(e.request_number), e.remote_addr->c_str(),
                   e.nvars * 2, e.pktsize, CTime(e.start_sec), e.method->c_str(),
                   e.uri->c_str(), static_cast<unsigned long long>(e.body_bytes),
                   static_cast<unsigned long long>(shown), micros_ ? "micros" : "msecs",
                   e.protocol->c_str(), e.status, e.header_count,
                   static_cast<unsigned long long>(e.header_bytes), core_id_);
  if (n < 0) return;
  if (static_cast<size_t>(n) >= sizeof line) {
    // uWSGI degrades over-long lines to a minimal form; we cut the URI instead and keep
    // the line well-formed.
    n = snprintf(line, sizeof line, "[pid: %d|app: 0|req: %llu/%llu] %s %.200s... => %u\n",
                 static_cast<int>(getpid()), static_cast<unsigned long long>(e.request_number),
                 static_cast<unsigned long long>(e.request_number), e.method->c_str(),
                 e.uri->c_str(), e.status);
  }
  buf_.append(line, static_cast<size_t>(n));
}

void RequestLog::AppendLine(const char* line, size_t len) {
  if (buf_.size() > kMaxPending) {
    dropped_++;
    return;
  }
  buf_.append(line, len);
  if (len == 0 || line[len - 1] != '\n') buf_.push_back('\n');
}

void RequestLog::Flush() {
  if (buf_.empty()) return;
  size_t off = 0;
  while (off < buf_.size()) {
    ssize_t w = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (w > 0) {
      off += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    break;  // EAGAIN or a closed log: keep the rest for the next flush
  }
  buf_.erase(0, off);
  if (dropped_ > 0 && buf_.size() < kMaxPending / 2) {
    char note[96];
    int n = snprintf(note, sizeof note, "tsgi: %llu log lines dropped (log fd not writable)\n",
                     static_cast<unsigned long long>(dropped_));
    buf_.append(note, static_cast<size_t>(n));
    dropped_ = 0;
  }
}

}  // namespace tsgi
