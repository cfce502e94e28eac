// A minimal test harness for the native unit tests (no Node, no framework): each test is a
// function registered with TEST(name); CHECK failures print file:line and mark the run failed.
// Output is TAP so the runner script can show which behaviour broke.
#ifndef TSGI_TEST_NATIVE_HARNESS_H_
#define TSGI_TEST_NATIVE_HARNESS_H_

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace tsgi_test {

struct Case {
  const char* name;
  void (*fn)();
};

inline std::vector<Case>& Registry() {
  static std::vector<Case> cases;
  return cases;
}

inline int& Failures() {
  static int failures = 0;
  return failures;
}

struct Registrar {
  Registrar(const char* name, void (*fn)()) { Registry().push_back({name, fn}); }
};

inline int RunAll() {
  int total = static_cast<int>(Registry().size());
  std::printf("1..%d\n", total);
  int n = 0, failed_cases = 0;
  for (const Case& c : Registry()) {
    int before = Failures();
    c.fn();
    n++;
    bool ok = Failures() == before;
    if (!ok) failed_cases++;
    std::printf("%s %d - %s\n", ok ? "ok" : "not ok", n, c.name);
  }
  return failed_cases == 0 ? 0 : 1;
}

}  // namespace tsgi_test

#define TSGI_CAT2(a, b) a##b
#define TSGI_CAT(a, b) TSGI_CAT2(a, b)
#define TEST(name)                                                                                \
  static void TSGI_CAT(test_fn_, __LINE__)();                                                     \
  static tsgi_test::Registrar TSGI_CAT(test_reg_, __LINE__)(name, &TSGI_CAT(test_fn_, __LINE__)); \
  static void TSGI_CAT(test_fn_, __LINE__)()

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::printf("# %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      tsgi_test::Failures()++;                                               \
    }                                                                        \
  } while (0)

#define CHECK_EQ(a, b)                                                                 \
  do {                                                                                 \
    auto _va = (a);                                                                    \
    auto _vb = (b);                                                                    \
    if (!(_va == _vb)) {                                                               \
      std::printf("# %s:%d: CHECK_EQ failed: %s == %s\n", __FILE__, __LINE__, #a, #b); \
      tsgi_test::Failures()++;                                                         \
    }                                                                                  \
  } while (0)

#define CHECK_SPAN(span, lit) CHECK(std::string((span).data, (span).len) == std::string(lit))

#define TEST_MAIN()             \
  int main() {                  \
    return tsgi_test::RunAll(); \
  }

#endif  // TSGI_TEST_NATIVE_HARNESS_H_
