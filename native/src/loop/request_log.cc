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

namespace {

// Appends the decimal digits of v: the log line is built from a few appends instead of a
// snprintf with 17 conversions (which cost most of the per-request logging time).
void AppendU64(std::string* out, uint64_t v) {
  char tmp[24];
  char* p = tmp + sizeof tmp;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out->append(p, static_cast<size_t>(tmp + sizeof tmp - p));
}

void AppendLit(std::string* out, const char* lit) {
  out->append(lit);
}

}  // namespace

bool LogVarByName(const std::string& name, LogVar* out) {
  static const struct {
    const char* name;
    LogVar var;
  } kNames[] = {
      {"method", LogVar::kMethod},     {"uri", LogVar::kUri},         {"proto", LogVar::kProto},
      {"status", LogVar::kStatus},     {"msecs", LogVar::kMsecs},     {"micros", LogVar::kMicros},
      {"secs", LogVar::kSecs},         {"size", LogVar::kSize},       {"hsize", LogVar::kHsize},
      {"rsize", LogVar::kRsize},       {"headers", LogVar::kHeaders}, {"addr", LogVar::kAddr},
      {"pid", LogVar::kPid},           {"wid", LogVar::kWid},         {"core", LogVar::kCore},
      {"vars", LogVar::kVars},         {"pktsize", LogVar::kPktsize}, {"time", LogVar::kTime},
      {"epoch", LogVar::kEpoch},       {"ltime", LogVar::kLtime},     {"ctime", LogVar::kCtime},
      {"switches", LogVar::kSwitches},
  };
  for (const auto& n : kNames) {
    if (name == n.name) {
      *out = n.var;
      return true;
    }
  }
  return false;
}

// One --log-format line (uWSGI's core/logging.c logvars, same meanings): `time` and
// `ltime` are the request's start, `epoch` the moment of logging.
void RequestLog::AppendFormatted(const RequestLogEntry& e) {
  std::string* o = &buf_;
  uint64_t elapsed = e.end_us > e.start_us ? e.end_us - e.start_us : 0;
  char tmp[64];
  for (const LogItem& it : format_.items) {
    switch (it.kind) {
      case LogVar::kLiteral:
        o->append(it.text);
        break;
      case LogVar::kMethod:
        o->append(*e.method);
        break;
      case LogVar::kUri:
        o->append(e.uri->data(), e.uri->size() > 4096 ? 4096 : e.uri->size());
        break;
      case LogVar::kProto:
        o->append(*e.protocol);
        break;
      case LogVar::kStatus:
        AppendU64(o, e.status);
        break;
      case LogVar::kMsecs:
        AppendU64(o, elapsed / 1000);
        break;
      case LogVar::kMicros:
        AppendU64(o, elapsed);
        break;
      case LogVar::kSecs: {
        int n = snprintf(tmp, sizeof tmp, "%.4f", static_cast<double>(elapsed) / 1e6);
        o->append(tmp, static_cast<size_t>(n));
        break;
      }
      case LogVar::kSize:
        AppendU64(o, e.body_bytes);
        break;
      case LogVar::kHsize:
        AppendU64(o, e.header_bytes);
        break;
      case LogVar::kRsize:
        AppendU64(o, e.request_body_bytes);
        break;
      case LogVar::kHeaders:
        AppendU64(o, e.header_count);
        break;
      case LogVar::kAddr:
        o->append(*e.remote_addr);
        break;
      case LogVar::kPid:
        AppendU64(o, pid_);
        break;
      case LogVar::kWid:
        AppendU64(o, worker_id_);
        break;
      case LogVar::kCore:
        AppendU64(o, static_cast<uint64_t>(core_id_));
        break;
      case LogVar::kVars:
        AppendU64(o, e.nvars);
        break;
      case LogVar::kPktsize:
        AppendU64(o, e.pktsize);
        break;
      case LogVar::kTime:
        AppendU64(o, static_cast<uint64_t>(e.start_sec));
        break;
      case LogVar::kEpoch:
        AppendU64(o, static_cast<uint64_t>(time(nullptr)));
        break;
      case LogVar::kLtime: {
        struct tm tm;
        localtime_r(&e.start_sec, &tm);
        size_t n = strftime(tmp, sizeof tmp, "%d/%b/%Y:%H:%M:%S %z", &tm);
        o->append(tmp, n);
        break;
      }
      case LogVar::kCtime:
        o->append(CTime(e.start_sec), 24);
        break;
      case LogVar::kSwitches:
        o->push_back('1');
        break;
      case LogVar::kCaptured:
        if (e.captured != nullptr && it.index < e.captured->size()) o->append((*e.captured)[it.index]);
        break;
    }
  }
  o->push_back('\n');
}

void RequestLog::AppendDate() {
  time_t now = time(nullptr);
  if (now != date_sec_) {
    date_sec_ = now;
    if (date_format_.empty()) {
      date_prefix_.assign(CTime(now), 24);
    } else {
      struct tm tm;
      localtime_r(&now, &tm);
      char out[128];
      date_prefix_.assign(out, strftime(out, sizeof out, date_format_.c_str(), &tm));
    }
    date_prefix_.append(" - ", 3);
  }
  buf_.append(date_prefix_);
}

void RequestLog::Append(const RequestLogEntry& e) {
  if (buf_.size() > kMaxPending) {
    dropped_++;
    return;
  }
  if (log_date_) AppendDate();
  if (pid_ == 0) pid_ = static_cast<uint64_t>(getpid());  // glibc no longer caches getpid()
  if (!format_.items.empty()) {
    AppendFormatted(e);
    return;
  }
  uint64_t elapsed = e.end_us > e.start_us ? e.end_us - e.start_us : 0;
  uint64_t shown = micros_ ? elapsed : elapsed / 1000;
  // uWSGI's default line (core/logging.c uwsgi_logit_simple); URIs longer than 4 KiB are
  // cut so one request cannot produce an unbounded line.
  std::string* o = &buf_;
  AppendLit(o, "[pid: ");
  AppendU64(o, pid_);
  AppendLit(o, "|app: 0|req: ");
  AppendU64(o, e.request_number);
  o->push_back('/');
  AppendU64(o, e.request_number);
  AppendLit(o, "] ");
  o->append(*e.remote_addr);
  AppendLit(o, " () {");
  AppendU64(o, static_cast<uint64_t>(e.nvars) * 2);
  AppendLit(o, " vars in ");
  AppendU64(o, e.pktsize);
  AppendLit(o, " bytes} [");
  o->append(CTime(e.start_sec), 24);
  AppendLit(o, "] ");
  o->append(*e.method);
  o->push_back(' ');
  o->append(e.uri->data(), e.uri->size() > 4096 ? 4096 : e.uri->size());
  AppendLit(o, " => generated ");
  AppendU64(o, e.body_bytes);
  AppendLit(o, " bytes in ");
  AppendU64(o, shown);
  AppendLit(o, micros_ ? " micros (" : " msecs (");
  o->append(*e.protocol);
  o->push_back(' ');
  AppendU64(o, e.status);
  AppendLit(o, ") ");
  AppendU64(o, e.header_count);
  AppendLit(o, " headers in ");
  AppendU64(o, e.header_bytes);
  AppendLit(o, " bytes (1 switches on core ");
  AppendU64(o, static_cast<uint64_t>(core_id_));
  AppendLit(o, ")\n");
}

void RequestLog::AppendLine(const char* line, size_t len) {
  if (buf_.size() > kMaxPending) {
    dropped_++;
    return;
  }
  if (log_date_) AppendDate();
  buf_.append(line, len);
  if (len == 0 || line[len - 1] != '\n') buf_.push_back('\n');
  urgent_ = true;
}

void RequestLog::FlushIfDue(uint64_t now_ms, bool idle) {
  if (buf_.empty()) return;
  if (pending_since_ms_ == kNotPending) pending_since_ms_ = now_ms;
  if (idle || urgent_ || buf_.size() >= kFlushBytes || now_ms - pending_since_ms_ >= kFlushDelayMs) Flush();
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
  if (buf_.empty()) {
    pending_since_ms_ = kNotPending;
    urgent_ = false;
  }
  if (dropped_ > 0 && buf_.size() < kMaxPending / 2) {
    char note[96];
    int n = snprintf(note, sizeof note, "tsgi: %llu log lines dropped (log fd not writable)\n",
                     static_cast<unsigned long long>(dropped_));
    buf_.append(note, static_cast<size_t>(n));
    dropped_ = 0;
  }
}

}  // namespace tsgi
