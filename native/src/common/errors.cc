#include "common/errors.h"

#include <cstring>

namespace tsgi {

const char* ErrorName(ErrorCode code) {
  switch (code) {
#define TSGI_ERROR_NAME(name, num, status, reason) \
  case ErrorCode::name:                            \
    return #name;
    TSGI_ERROR_MAP(TSGI_ERROR_NAME)
#undef TSGI_ERROR_NAME
  }
  return "UNKNOWN";
}

const char* ErrorReason(ErrorCode code) {
  switch (code) {
#define TSGI_ERROR_REASON(name, num, status, reason) \
  case ErrorCode::name:                              \
    return reason;
    TSGI_ERROR_MAP(TSGI_ERROR_REASON)
#undef TSGI_ERROR_REASON
  }
  return "unknown error";
}

int ErrorStatus(ErrorCode code) {
  switch (code) {
#define TSGI_ERROR_STATUS(name, num, status, reason) \
  case ErrorCode::name:                              \
    return status;
    TSGI_ERROR_MAP(TSGI_ERROR_STATUS)
#undef TSGI_ERROR_STATUS
  }
  return 500;
}

// Canned responses are pre-rendered once, like uWebSockets' HttpErrors table, so rejecting
// bad input never allocates.

namespace {
struct Canned {
  int status;
  const char* bytes;
};

#define CANNED(status, reason, bodylen)                                                                \
  {                                                                                                    \
    status, "HTTP/1.1 " #status " " reason "\r\nContent-Type: text/plain\r\nContent-Length: " #bodylen \
            "\r\nConnection: close\r\n\r\n" reason "\n"                                                \
  }

const Canned kCanned[] = {
    CANNED(400, "Bad Request", 12),           CANNED(408, "Request Timeout", 16),
    CANNED(413, "Content Too Large", 18),     CANNED(414, "URI Too Long", 13),
    CANNED(417, "Expectation Failed", 19),    CANNED(431, "Request Header Fields Too Large", 32),
    CANNED(500, "Internal Server Error", 22), CANNED(501, "Not Implemented", 16),
    CANNED(502, "Bad Gateway", 12),           CANNED(503, "Service Unavailable", 20),
    CANNED(504, "Gateway Timeout", 16),       CANNED(505, "HTTP Version Not Supported", 27),
};
#undef CANNED
}  // namespace

const char* CannedResponse(int status, size_t* len) {
  const Canned* fallback = nullptr;
  for (const Canned& c : kCanned) {
    if (c.status == 500) fallback = &c;
    if (c.status == status) {
      *len = std::strlen(c.bytes);
      return c.bytes;
    }
  }
  *len = std::strlen(fallback->bytes);
  return fallback->bytes;
}

}  // namespace tsgi
