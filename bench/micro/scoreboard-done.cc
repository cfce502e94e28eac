// ScoreboardRequestDone alone: the per-request scoreboard update, timed over many calls on
// one core record (each in L1, as on a serving thread), to compare two builds of
// native/src/scoreboard (docs/stats.md, "Prometheus metrics": cost). Built and run by
// bench/scoreboard-done.sh; -DTSGI_OLD_DONE builds against the layout-1 signature (no rx, no status).
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "scoreboard/scoreboard.h"

using namespace tsgi;

static double NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

int main(int argc, char** argv) {
  long calls = argc > 1 ? std::atol(argv[1]) : 20000000;
  int reps = argc > 2 ? std::atoi(argv[2]) : 5;
  Scoreboard sb;
  if (ScoreboardCreate(1, 1, &sb) < 0) return 1;
  ScoreboardSlot slot;
  slot.core = sb.core(0, 0);
  slot.worker = sb.worker(0);
  slot.owner = static_cast<uint64_t>(getpid()) << 32;
  std::vector<double> per_call;
  for (int r = 0; r < reps; r++) {
    double t0 = NowNs();
    for (long i = 0; i < calls; i++) {
      // A hello-world request: ~100 µs, 200, ~80 bytes in, ~120 out; never the tracked one.
      uint64_t rt = 90 + static_cast<uint64_t>(i & 31);
#ifdef TSGI_OLD_DONE
      ScoreboardRequestDone(slot, static_cast<uint32_t>(i) | 1u, rt, 120);
#else
      ScoreboardRequestDone(slot, static_cast<uint32_t>(i) | 1u, rt, 120, 80, 200);
#endif
    }
    per_call.push_back((NowNs() - t0) / static_cast<double>(calls));
  }
  std::sort(per_call.begin(), per_call.end());
  std::printf("ns_per_call median=%.2f min=%.2f max=%.2f\n", per_call[per_call.size() / 2], per_call.front(),
              per_call.back());
  return 0;
}
