// Request log lines in uWSGI's default format (uwsgi_logit_simple in core/logging.c),
// buffered per Server and written with one write(2) per loop batch so that logging costs a
// memcpy and a snprintf per request, not a syscall.
#ifndef TSGI_LOOP_REQUEST_LOG_H_
#define TSGI_LOOP_REQUEST_LOG_H_

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

namespace tsgi {

// --log-format (uWSGI's %(name) variables, docs/config.md): the format compiled by the CLI
// into literal pieces, values the Server knows, and request vars copied at dispatch (the
// `captured` names, e.g. HTTP_USER_AGENT for %(uagent)).
enum class LogVar : uint8_t {
  kLiteral,
  kMethod,
  kUri,
  kProto,
  kStatus,
  kMsecs,
  kMicros,
  kSecs,
  kSize,
  kHsize,
  kRsize,
  kHeaders,
  kAddr,
  kPid,
  kWid,
  kCore,
  kVars,
  kPktsize,
  kTime,
  kEpoch,
  kLtime,
  kCtime,
  kSwitches,
  kCaptured,  // `index` into LogFormat::captured
};

struct LogItem {
  LogVar kind = LogVar::kLiteral;
  std::string text;  // kLiteral
  uint32_t index = 0;
};

struct LogFormat {
  std::vector<LogItem> items;         // empty: uWSGI's default line
  std::vector<std::string> captured;  // request var names copied at dispatch
};

// Maps a variable name of the compiled format (the CLI's names: "method", "msecs", ...) to
// its LogVar; false for a name the Server does not compute.
bool LogVarByName(const std::string& name, LogVar* out);

// What one finished request contributes to its log line.
struct RequestLogEntry {
  const std::string* remote_addr;
  const std::string* method;
  const std::string* uri;
  const std::string* protocol;
  uint32_t nvars = 0;    // logged as 2 x nvars, as uWSGI counts iovecs
  uint32_t pktsize = 0;  // size of the (equivalent) uwsgi vars block
  time_t start_sec = 0;
  uint64_t start_us = 0;  // monotonic start, microseconds
  uint64_t end_us = 0;
  uint64_t body_bytes = 0;
  uint32_t status = 0;
  uint32_t header_count = 0;
  uint64_t header_bytes = 0;
  uint64_t request_number = 0;  // requests of this server so far, this one included
  uint64_t request_body_bytes = 0;
  const std::vector<std::string>* captured = nullptr;  // values of LogFormat::captured
};

class RequestLog {
 public:
  RequestLog() = default;
  void Configure(int fd, bool micros, int core_id, uint32_t worker_id, LogFormat format) {
    fd_ = fd;
    micros_ = micros;
    core_id_ = core_id;
    worker_id_ = worker_id;
    format_ = std::move(format);
  }
  // --log-date: every line starts with the date and " - ", as uWSGI's uwsgi_log writes it;
  // an empty format is uWSGI's default (ctime's 24 characters), else a strftime format.
  void SetDatePrefix(bool on, std::string format) {
    log_date_ = on;
    date_format_ = std::move(format);
    date_sec_ = 0;
  }
  const LogFormat& format() const { return format_; }
  void Append(const RequestLogEntry& e);
  // Appends a raw line; a newline is added when missing.
  void AppendLine(const char* line, size_t len);
  // Writes what is buffered. Bytes the fd does not take now stay buffered (bounded).
  void Flush();
  // The end of a batch: request lines wait for more, so a busy Server writes many per
  // write(2) instead of one batch's few (the write was most of the log's cost per request).
  // They are written once kFlushBytes are pending, once the oldest has waited kFlushDelayMs,
  // when `idle` (no connection left: nothing else would come to write them), and at once
  // after any other line (AppendLine: errors and warnings are never held back). A Server
  // with connections open runs its 250 ms timer, which ends a batch too: that bounds the
  // wait when traffic stops.
  void FlushIfDue(uint64_t now_ms, bool idle);
  size_t pending() const { return buf_.size(); }

 private:
  const char* CTime(time_t sec);
  void AppendFormatted(const RequestLogEntry& e);
  void AppendDate();

  std::string buf_;
  int fd_ = 2;
  bool micros_ = false;
  int core_id_ = 0;
  uint32_t worker_id_ = 1;
  LogFormat format_;
  bool log_date_ = false;
  std::string date_format_;
  time_t date_sec_ = 0;
  std::string date_prefix_;  // the prefix for date_sec_
  time_t cached_sec_ = 0;
  char cached_ctime_[32] = {0};
  uint64_t dropped_ = 0;
  uint64_t pid_ = 0;
  static constexpr uint64_t kNotPending = ~0ull;
  static constexpr size_t kFlushBytes = 16 * 1024;
  static constexpr uint64_t kFlushDelayMs = 10;
  uint64_t pending_since_ms_ = kNotPending;  // loop time the oldest unwritten line was seen
  bool urgent_ = false;                      // an AppendLine line is unwritten
};

}  // namespace tsgi

#endif  // TSGI_LOOP_REQUEST_LOG_H_
