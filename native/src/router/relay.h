// Operations on a session shared by its two halves: session.cc (client side) and relay.cc
// (worker side). Every function runs on the router's loop thread and tolerates a session
// that is already closing.
#ifndef TSGI_ROUTER_RELAY_H_
#define TSGI_ROUTER_RELAY_H_

#include <cstddef>
#include <cstdint>

#include "common/errors.h"
#include "router/session.h"

namespace tsgi {

// Unsent bytes towards one side above which the other side stops being read, and below
// which it is read again: a slow client slows the worker's output, never the router's memory.
constexpr size_t kRelayHighWater = 256 * 1024;
constexpr size_t kRelayLowWater = 64 * 1024;

// relay.cc
// Opens the worker connection and sends packet + body; called again by the timer while a
// connect waits for room in the worker's backlog (Session::connect_retry).
void ConnectBackend(Session* s);
void CloseBackend(Session* s);  // closes the worker connection, if any
void SendToClient(Session* s, const char* p, size_t n);
void SendToBackend(Session* s, const char* p, size_t n);

// session.cc
void ArmTimer(Session* s, uint64_t ms);  // (re)starts the session's one timer
void ResumeClient(Session* s);
// The response ended; `reusable` when it was complete and framed, so the connection may
// carry the next request.
void RequestDone(Session* s, bool reusable);
void CloseAfterFlush(Session* s);
void ShutdownClient(Session* s);
// Answers with the error's status (if nothing was sent yet), logs one line and closes.
// `detail` (the system error, say) is appended to the log line when given.
void FailSession(Session* s, ErrorCode code, const char* detail = nullptr);

}  // namespace tsgi

#endif  // TSGI_ROUTER_RELAY_H_
