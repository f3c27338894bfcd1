// A tiny test harness for the projection core (no gtest: the tests must
// cross-compile statically for aarch64 and run under qemu).
//
//   TEST(HashCheckValues) { CHECK_EQ(HashBytes("hello").low, 0x1e68...); }
//
// Exactly one translation unit defines PQRNN_TEST_MAIN before including this
// header; it gets `main(argc, argv)`: argv[1] is the testdata directory
// (TestDataDir()), optional argv[2] runs only tests whose name contains it.
// The exit status is nonzero if any check failed.
#ifndef PQRNN_TFLITE_OPS_PROJECTION_TEST_HARNESS_H_
#define PQRNN_TFLITE_OPS_PROJECTION_TEST_HARNESS_H_

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace pqrnn_test {

using TestFn = void (*)();

struct TestCase {
  const char* name;
  TestFn fn;
};

inline std::vector<TestCase>& Registry() {
  static std::vector<TestCase> registry;
  return registry;
}

struct Registrar {
  Registrar(const char* name, TestFn fn) { Registry().push_back({name, fn}); }
};

struct State {
  std::string testdata_dir = ".";
  int checks = 0;
  int failures_in_test = 0;
};

inline State& GetState() {
  static State state;
  return state;
}

inline const std::string& TestDataDir() { return GetState().testdata_dir; }

// Printable representations for failure messages.
inline std::string Repr(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  return out + "\"";
}
inline std::string Repr(std::string_view s) { return Repr(std::string(s)); }
inline std::string Repr(const char* s) { return Repr(std::string(s)); }
inline std::string Repr(char32_t c) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "U+%04X", static_cast<unsigned>(c));
  return buf;
}
inline std::string Repr(bool b) { return b ? "true" : "false"; }
template <typename T>
std::string Repr(const T& v) {
  std::ostringstream os;
  if constexpr (std::is_same_v<T, uint64_t>) {
    os << v << " (0x" << std::hex << v << ")";
  } else if constexpr (std::is_floating_point_v<T>) {
    os.precision(9);
    os << v;
  } else {
    os << v;
  }
  return os.str();
}
template <typename T>
std::string Repr(const std::vector<T>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    if (i == 32) return out + "... (" + std::to_string(v.size()) + " items)]";
    out += Repr(v[i]);
  }
  return out + "]";
}

// Records a failed check; prints at most 20 per test.
inline void Fail(const char* file, int line, const std::string& what) {
  State& s = GetState();
  if (++s.failures_in_test <= 20) {
    std::fprintf(stderr, "  %s:%d: check failed: %s\n", file, line,
                 what.c_str());
  }
}

inline bool Check(bool ok, const char* file, int line, const char* expr,
                  const std::string& extra = "") {
  ++GetState().checks;
  if (!ok) Fail(file, line, std::string(expr) + (extra.empty() ? "" : ": ") +
                                extra);
  return ok;
}

template <typename A, typename B>
bool CheckEq(const A& a, const B& b, const char* file, int line,
             const char* expr_a, const char* expr_b,
             const std::string& context) {
  ++GetState().checks;
  if (a == b) return true;
  Fail(file, line,
       std::string(expr_a) + " == " + expr_b + "\n      left:  " + Repr(a) +
           "\n      right: " + Repr(b) +
           (context.empty() ? "" : "\n      where: " + context));
  return false;
}

// --- Helpers for data-driven tests. ---

inline bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

inline std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

// Decodes "68656c6c6f" to "hello"; returns false on malformed input.
inline bool HexDecode(const std::string& hex, std::string* out) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2) return false;
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

inline std::string HexEncode(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

}  // namespace pqrnn_test

#define PQRNN_TEST_CONCAT_INNER(a, b) a##b
#define PQRNN_TEST_CONCAT(a, b) PQRNN_TEST_CONCAT_INNER(a, b)

// Defines and registers a test function.
#define TEST(name)                                                     \
  static void name();                                                  \
  static ::pqrnn_test::Registrar PQRNN_TEST_CONCAT(name, _registrar)( \
      #name, &name);                                                   \
  static void name()

// CHECK(cond) and CHECK_EQ(a, b) record a failure and continue; both return
// whether they passed. The *_CTX forms add a context string to the message.
#define CHECK(cond) ::pqrnn_test::Check((cond), __FILE__, __LINE__, #cond)
#define CHECK_CTX(cond, ctx) \
  ::pqrnn_test::Check((cond), __FILE__, __LINE__, #cond, (ctx))
#define CHECK_EQ(a, b) \
  ::pqrnn_test::CheckEq((a), (b), __FILE__, __LINE__, #a, #b, "")
#define CHECK_EQ_CTX(a, b, ctx) \
  ::pqrnn_test::CheckEq((a), (b), __FILE__, __LINE__, #a, #b, (ctx))

#ifdef PQRNN_TEST_MAIN
int main(int argc, char** argv) {
  using namespace pqrnn_test;
  State& state = GetState();
  if (argc > 1) state.testdata_dir = argv[1];
  const std::string filter = argc > 2 ? argv[2] : "";
  int run = 0, failed = 0;
  for (const TestCase& test : Registry()) {
    if (!filter.empty() && std::string(test.name).find(filter) == std::string::npos) {
      continue;
    }
    ++run;
    state.failures_in_test = 0;
    std::fprintf(stderr, "[ RUN    ] %s\n", test.name);
    try {
      test.fn();
    } catch (const std::exception& e) {
      Fail(__FILE__, __LINE__, std::string("exception: ") + e.what());
    }
    if (state.failures_in_test > 0) {
      ++failed;
      std::fprintf(stderr, "[ FAILED ] %s (%d failed checks)\n", test.name,
                   state.failures_in_test);
    } else {
      std::fprintf(stderr, "[     OK ] %s\n", test.name);
    }
  }
  std::fprintf(stderr, "%d tests, %d checks, %d tests failed\n", run,
               state.checks, failed);
  if (run == 0) {
    std::fprintf(stderr, "no test matched filter \"%s\"\n", filter.c_str());
    return 1;
  }
  return failed == 0 ? 0 : 1;
}
#endif  // PQRNN_TEST_MAIN

#endif  // PQRNN_TFLITE_OPS_PROJECTION_TEST_HARNESS_H_
