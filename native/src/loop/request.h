// The request side of a connection (request.cc), used by connection.cc.
#ifndef TSGI_LOOP_REQUEST_H_
#define TSGI_LOOP_REQUEST_H_

#include <cstddef>

#include "common/errors.h"
#include "loop/connection.h"

namespace tsgi {

// Parses and dispatches as much of data[0..len) as the connection's state allows; returns
// the bytes used, or -1 when the connection is closing.
long ProcessBytes(Connection* c, const char* data, size_t len);

// Refuses the current input with a canned status and closes once it is written. Used before
// the request reached the app; the log gets one line naming the cause, with `detail` (sizes,
// the modifier) when there is one.
void Refuse(Connection* c, ErrorCode err, const char* detail = nullptr);

}  // namespace tsgi

#endif  // TSGI_LOOP_REQUEST_H_
