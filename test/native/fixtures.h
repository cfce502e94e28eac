// Reading the hex fixture files (test/fixtures/uwsgi/README.md describes the format) for the
// native runners of test/fixtures/uwsgi, fastcgi and scgi: each case's name, its hex bytes and
// its expect block, and the options of its meta comment. What a case expects is each
// runner's own business.
#ifndef TSGI_TEST_NATIVE_FIXTURES_H_
#define TSGI_TEST_NATIVE_FIXTURES_H_

#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tsgi_test {

struct Fixture {
  std::string name;
  std::string hex, expect;
  size_t buffer_size = 8192, max_vars = 256;
};

inline std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] != '\\') {
      out += s[i];
    } else if (s[i + 1] == '\\') {
      out += '\\';
      i++;
    } else {
      char c = static_cast<char>(std::strtol(s.substr(i + 2, 2).c_str(), nullptr, 16));
      i += 3;
      size_t count = 1;
      if (i + 1 < s.size() && s[i + 1] == '{') {
        size_t close = s.find('}', i);
        count = std::strtoul(s.substr(i + 2, close - i - 2).c_str(), nullptr, 10);
        i = close;
      }
      out.append(count, c);
    }
  }
  return out;
}

inline std::string ParseHex(const std::string& text) {
  std::string out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream toks(line);
    std::string tok;
    while (toks >> tok) {
      char byte = static_cast<char>(std::strtol(tok.substr(0, 2).c_str(), nullptr, 16));
      size_t count = tok.size() > 2 ? std::strtoul(tok.c_str() + 3, nullptr, 10) : 1;
      out.append(count, byte);
    }
  }
  return out;
}

inline size_t MetaNumber(const std::string& line, const char* key, size_t fallback) {
  size_t at = line.find(std::string("\"") + key + "\"");
  if (at == std::string::npos) return fallback;
  return std::strtoul(line.c_str() + line.find(':', at) + 1, nullptr, 10);
}

inline std::vector<Fixture> ReadFixtures(const std::string& dir) {
  std::vector<Fixture> all;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return all;
  std::vector<std::string> files;
  while (dirent* e = readdir(d)) {
    std::string f = e->d_name;
    if (f.size() > 3 && f.compare(f.size() - 3, 3, ".md") == 0 && f != "README.md") files.push_back(f);
  }
  closedir(d);
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) {
    std::ifstream in(dir + f);
    std::string line, *block = nullptr;
    int lineno = 0;
    while (std::getline(in, line)) {
      lineno++;
      if (line.rfind("## ", 0) == 0) {
        all.push_back(Fixture{});
        all.back().name = line.substr(3) + " (" + f + ":" + std::to_string(lineno) + ")";
      } else if (all.empty()) {
        continue;
      } else if (block != nullptr) {
        if (line.rfind("```", 0) == 0)
          block = nullptr;
        else
          *block += line + "\n";
      } else if (line == "```hex") {
        block = &all.back().hex;
      } else if (line == "```expect") {
        block = &all.back().expect;
      } else if (line.rfind("<!-- meta=", 0) == 0) {
        all.back().buffer_size = MetaNumber(line, "bufferSize", 8192);
        all.back().max_vars = MetaNumber(line, "maxVars", 256);
      }
    }
  }
  return all;
}

}  // namespace tsgi_test

#endif  // TSGI_TEST_NATIVE_FIXTURES_H_
