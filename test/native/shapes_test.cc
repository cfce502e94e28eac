// Unit tests of ShapeTable (native/src/loop/shapes.h): an id stands for one exact sequence of
// var names, whatever the values, and two sequences never share an id, also when the table
// answers from the sequence it returned last without hashing.
#include <string>
#include <vector>

#include "harness.h"
#include "loop/shapes.h"

using namespace tsgi;

namespace {

// A blob and its meta (4 offsets per var: name start, name end, value start, value end) for
// name=value pairs, as BuildHttpVars lays them out.
struct Vars {
  std::string blob;
  std::vector<uint32_t> meta;
};

Vars Make(const std::vector<std::pair<std::string, std::string>>& pairs) {
  Vars v;
  for (const auto& [name, value] : pairs) {
    uint32_t n0 = static_cast<uint32_t>(v.blob.size());
    v.blob += name;
    uint32_t n1 = static_cast<uint32_t>(v.blob.size());
    v.blob += value;
    uint32_t v1 = static_cast<uint32_t>(v.blob.size());
    v.meta.insert(v.meta.end(), {n0, n1, n1, v1});
  }
  return v;
}

uint32_t Id(ShapeTable* t, const Vars& v) {
  return t->Lookup(v.blob, v.meta.data(), v.meta.size() / 4);
}

}  // namespace

TEST("the same names in the same order get the same id, whatever the values") {
  ShapeTable t;
  uint32_t a = Id(&t, Make({{"REQUEST_METHOD", "GET"}, {"PATH_INFO", "/"}}));
  CHECK(a != 0);
  CHECK_EQ(Id(&t, Make({{"REQUEST_METHOD", "POST"}, {"PATH_INFO", "/long/path"}})), a);
  CHECK_EQ(Id(&t, Make({{"REQUEST_METHOD", ""}, {"PATH_INFO", ""}})), a);
}

TEST("other names, another order, one more or one fewer name get other ids") {
  ShapeTable t;
  uint32_t a = Id(&t, Make({{"A", "1"}, {"B", "2"}}));
  uint32_t b = Id(&t, Make({{"B", "2"}, {"A", "1"}}));
  uint32_t c = Id(&t, Make({{"A", "1"}, {"B", "2"}, {"C", "3"}}));
  uint32_t d = Id(&t, Make({{"A", "1"}}));
  uint32_t e = Id(&t, Make({{"A", "1"}, {"C", "2"}}));
  CHECK(a != 0 && b != 0 && c != 0 && d != 0 && e != 0);
  CHECK(a != b && a != c && a != d && a != e && b != c && c != d && d != e);
}

TEST("names that only split differently between vars are different sequences") {
  ShapeTable t;
  uint32_t a = Id(&t, Make({{"AB", "x"}, {"C", "y"}}));
  uint32_t b = Id(&t, Make({{"A", "x"}, {"BC", "y"}}));
  CHECK(a != 0 && b != 0 && a != b);
}

TEST("alternating sequences keep their ids (the last one is answered first, then the others)") {
  ShapeTable t;
  Vars x = Make({{"HTTP_HOST", "h"}, {"HTTP_ACCEPT", "*/*"}});
  Vars y = Make({{"HTTP_HOST", "h"}, {"HTTP_USER_AGENT", "u"}});
  uint32_t a = Id(&t, x);
  uint32_t b = Id(&t, y);
  for (int i = 0; i < 4; i++) {
    CHECK_EQ(Id(&t, x), a);
    CHECK_EQ(Id(&t, x), a);
    CHECK_EQ(Id(&t, y), b);
  }
}

TEST("a full table answers 0 for new sequences and still knows the old ones") {
  ShapeTable t;
  uint32_t first = Id(&t, Make({{"N0", ""}}));
  for (uint32_t i = 1; i < ShapeTable::kMaxShapes; i++)
    CHECK(Id(&t, Make({{"N" + std::to_string(i), ""}})) != 0);
  CHECK_EQ(Id(&t, Make({{"ONE_TOO_MANY", ""}})), 0u);
  CHECK_EQ(Id(&t, Make({{"N0", "v"}})), first);
  CHECK_EQ(Id(&t, Make({{"ONE_TOO_MANY", ""}})), 0u);
}

TEST_MAIN()
