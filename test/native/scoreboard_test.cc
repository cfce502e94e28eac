// Unit tests of the scoreboard's per-request counters (native/src/scoreboard/scoreboard.h):
// the duration bucket a request lands in (Prometheus `le` bounds are inclusive), the status
// slot, and what ScoreboardRequestDone adds to a core record of a real memfd region.
#include <errno.h>
#include <unistd.h>

#include "harness.h"
#include "scoreboard/scoreboard.h"

using namespace tsgi;

TEST("a duration equal to a bound lands in that bound's bucket, one µs more in the next") {
  for (size_t i = 0; i < kScoreboardDurationBounds; i++) {
    CHECK(ScoreboardDurationBucket(kScoreboardDurationBoundsUs[i]) == i);
    CHECK(ScoreboardDurationBucket(kScoreboardDurationBoundsUs[i] + 1) == i + 1);
  }
}

TEST("zero goes to the first bucket and anything above 10 s to the +Inf bucket") {
  CHECK(ScoreboardDurationBucket(0) == 0);
  CHECK(ScoreboardDurationBucket(1) == 0);
  CHECK(ScoreboardDurationBucket(10000000) == kScoreboardDurationBuckets - 2);
  CHECK(ScoreboardDurationBucket(10000001) == kScoreboardDurationBuckets - 1);
  CHECK(ScoreboardDurationBucket(~0ull) == kScoreboardDurationBuckets - 1);
}

TEST("the bounds are strictly increasing, from 0.5 ms to 10 s") {
  CHECK(kScoreboardDurationBoundsUs[0] == 500);
  CHECK(kScoreboardDurationBoundsUs[kScoreboardDurationBounds - 1] == 10000000);
  for (size_t i = 1; i < kScoreboardDurationBounds; i++) {
    CHECK(kScoreboardDurationBoundsUs[i] > kScoreboardDurationBoundsUs[i - 1]);
  }
}

TEST("status codes 100..599 have their own slot, anything else shares the last one") {
  CHECK(ScoreboardStatusSlot(100) == 0);
  CHECK(ScoreboardStatusSlot(200) == 100);
  CHECK(ScoreboardStatusSlot(599) == 499);
  CHECK(ScoreboardStatusSlot(99) == kScoreboardStatusOther);
  CHECK(ScoreboardStatusSlot(600) == kScoreboardStatusOther);
  CHECK(ScoreboardStatusSlot(999) == kScoreboardStatusOther);
  CHECK(kScoreboardStatusOther == kScoreboardStatusSlots - 1);
}

TEST("a finished request adds its duration bucket, status, rx and tx to its core only") {
  Scoreboard sb;
  int fd = ScoreboardCreate(1, 2, &sb);
  CHECK(fd >= 0);
  if (fd < 0) return;
  ScoreboardSlot slot;
  slot.core = sb.core(0, 1);
  slot.worker = sb.worker(0);
  slot.owner = 7ull << 32;
  ScoreboardRequestDone(slot, 1, 120, 50, 80, 200);
  ScoreboardRequestDone(slot, 2, 1000, 60, 90, 404);
  ScoreboardRequestDone(slot, 3, 20000000, 0, 10, 0);  // aborted before any status
  ScoreboardRequestDone(slot, 4, 700, 10, 5, 42);
  const ScoreboardCore* c = sb.core(0, 1);
  CHECK(c->requests.load() == 4);
  CHECK(c->rx.load() == 185);
  CHECK(c->tx.load() == 120);
  CHECK(c->running_time.load() == 120 + 1000 + 20000000 + 700);
  CHECK(c->duration_buckets[0].load() == 1);
  CHECK(c->duration_buckets[1].load() == 2);  // 1000 µs (the bound itself) and 700 µs
  CHECK(c->duration_buckets[kScoreboardDurationBuckets - 1].load() == 1);
  uint64_t total = 0;
  for (size_t i = 0; i < kScoreboardDurationBuckets; i++) total += c->duration_buckets[i].load();
  CHECK(total == c->requests.load());
  CHECK(c->status_counts[ScoreboardStatusSlot(200)].load() == 1);
  CHECK(c->status_counts[ScoreboardStatusSlot(404)].load() == 1);
  CHECK(c->status_counts[kScoreboardStatusOther].load() == 1);
  uint64_t statuses = 0;
  for (size_t i = 0; i < kScoreboardStatusSlots; i++) statuses += c->status_counts[i].load();
  CHECK(statuses == 3);  // the aborted request has no status
  const ScoreboardCore* other = sb.core(0, 0);
  CHECK(other->requests.load() == 0 && other->rx.load() == 0 && other->duration_buckets[0].load() == 0);
  ScoreboardUnmap(&sb);
  close(fd);
}

TEST("a region is attached only with this build's layout version") {
  Scoreboard sb;
  int fd = ScoreboardCreate(1, 1, &sb);
  CHECK(fd >= 0);
  if (fd < 0) return;
  Scoreboard again;
  CHECK(ScoreboardAttach(fd, &again) == 0);
  ScoreboardUnmap(&again);
  sb.header()->version = kScoreboardVersion - 1;
  CHECK(ScoreboardAttach(fd, &again) == -EINVAL);
  ScoreboardUnmap(&sb);
  close(fd);
}

TEST_MAIN()
