#include "loop/shapes.h"

#include <cstring>

namespace tsgi {

namespace {

// FNV-1a over the names and a separator after each: cheap, and only a first filter.
uint64_t HashNames(const char* blob, const uint32_t* meta, size_t nvars) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < nvars; i++) {
    const char* p = blob + meta[i * 4];
    const char* e = blob + meta[i * 4 + 1];
    for (; p < e; p++) {
      h ^= static_cast<unsigned char>(*p);
      h *= 1099511628211ULL;
    }
    h ^= 0xff;
    h *= 1099511628211ULL;
  }
  return h ^ nvars;
}

bool SameNames(const std::string& stored, const char* blob, const uint32_t* meta, size_t nvars) {
  size_t off = 0;
  for (size_t i = 0; i < nvars; i++) {
    size_t len = meta[i * 4 + 1] - meta[i * 4];
    if (off + len + 1 > stored.size()) return false;
    if (std::memcmp(stored.data() + off, blob + meta[i * 4], len) != 0 || stored[off + len] != '\0')
      return false;
    off += len + 1;
  }
  return off == stored.size();
}

}  // namespace

uint32_t ShapeTable::Lookup(const std::string& blob, const uint32_t* meta, size_t nvars) {
  if (last_ != 0 && SameNames(keys_[last_ - 1], blob.data(), meta, nvars)) return last_;
  uint64_t h = HashNames(blob.data(), meta, nvars);
  auto it = by_hash_.find(h);
  if (it != by_hash_.end()) {
    if (!SameNames(keys_[it->second - 1], blob.data(), meta, nvars)) return 0;
    last_ = it->second;
    return last_;
  }
  if (keys_.size() >= kMaxShapes) return 0;
  std::string names;
  for (size_t i = 0; i < nvars; i++) {
    names.append(blob.data() + meta[i * 4], meta[i * 4 + 1] - meta[i * 4]);
    names.push_back('\0');
  }
  keys_.push_back(std::move(names));
  uint32_t id = static_cast<uint32_t>(keys_.size());
  by_hash_.emplace(h, id);
  last_ = id;
  return id;
}

}  // namespace tsgi
