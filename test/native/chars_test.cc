// Unit tests of FormatDecimal (native/src/common/chars.h), which writes peer ports, IPv4
// address parts and Content-Length values without printf.
#include <cstdint>
#include <cstdio>
#include <string>

#include "common/chars.h"
#include "harness.h"

using namespace tsgi;

namespace {

std::string Formatted(uint64_t v) {
  char buf[24];
  return std::string(buf, FormatDecimal(v, buf));
}

}  // namespace

TEST("FormatDecimal matches printf at the edges of each width") {
  const uint64_t values[] = {0, 1, 9, 10, 99, 100, 255, 65535, 65536, 4294967295ull, 18446744073709551615ull};
  for (uint64_t v : values) {
    char expect[24];
    std::snprintf(expect, sizeof expect, "%llu", static_cast<unsigned long long>(v));
    CHECK_EQ(Formatted(v), std::string(expect));
  }
}

TEST("FormatDecimal writes its digits and nothing after them") {
  char buf[8] = {'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x'};
  CHECK_EQ(FormatDecimal(443, buf), static_cast<size_t>(3));
  CHECK_EQ(std::string(buf, 4), std::string("443x"));
}

TEST_MAIN()
