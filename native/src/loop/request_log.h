// Request log lines in uWSGI's default format (uwsgi_logit_simple in core/logging.c),
// buffered per Server and written with one write(2) per loop batch so that logging costs a
// memcpy and a snprintf per request, not a syscall.
#ifndef TSGI_LOOP_REQUEST_LOG_H_
#define TSGI_LOOP_REQUEST_LOG_H_

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>

namespace tsgi {

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
};

class RequestLog {
 public:
  RequestLog() = default;
  void Configure(int fd, bool micros, int core_id) {
    fd_ = fd;
    micros_ = micros;
    core_id_ = core_id;
  }
  void Append(const RequestLogEntry& e);
  // Appends a raw line; a newline is added when missing.
  void AppendLine(const char* line, size_t len);
  // Writes what is buffered. Bytes the fd does not take now stay buffered (bounded).
  void Flush();
  size_t pending() const { return buf_.size(); }

 private:
  const char* CTime(time_t sec);

  std::string buf_;
  int fd_ = 2;
  bool micros_ = false;
  int core_id_ = 0;
  time_t cached_sec_ = 0;
  char cached_ctime_[32] = {0};
  uint64_t dropped_ = 0;
  uint64_t pid_ = 0;
};

}  // namespace tsgi

#endif  // TSGI_LOOP_REQUEST_LOG_H_
