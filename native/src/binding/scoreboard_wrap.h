// Used by server_wrap.cc to find a Server's slot in a scoreboard handle made by
// attachScoreboard / createScoreboard (scoreboard_wrap.cc).
#ifndef TSGI_BINDING_SCOREBOARD_WRAP_H_
#define TSGI_BINDING_SCOREBOARD_WRAP_H_

#include <napi.h>

#include "scoreboard/scoreboard.h"

namespace tsgi {

// Fills `out` with worker `worker` / core `core` of the region behind `handle`. Returns
// false (and leaves a pending JS exception) when the handle or an index is invalid.
bool ScoreboardSlotFromJs(Napi::Env env, Napi::Value handle, uint32_t worker, uint32_t core,
                          ScoreboardSlot* out);

}  // namespace tsgi

#endif  // TSGI_BINDING_SCOREBOARD_WRAP_H_
