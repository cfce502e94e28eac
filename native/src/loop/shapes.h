// Shape ids for var-name sequences. Requests from one client population repeat the same
// var names in the same order; the JS layer compiles one environ builder (an object literal)
// per sequence. Native code recognises a sequence it has seen before and passes its id, so
// JS never re-reads the names: equal ids guarantee byte-identical name sequences (checked
// here with memcmp, never trusted to a hash alone, so a crafted header name cannot make
// one request's values appear under another sequence's names).
#ifndef TSGI_LOOP_SHAPES_H_
#define TSGI_LOOP_SHAPES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace tsgi {

class ShapeTable {
 public:
  // Ids are 1..kMaxShapes; 0 means "no id" (table full or a hash collision): the JS layer
  // then builds the environ generically. Ids are never reused, so a compiled builder stays
  // valid for the life of the Server.
  static constexpr uint32_t kMaxShapes = 256;

  // Returns the id of the names at meta[4*i .. 4*i+1] in blob, assigning a new one if there
  // is room.
  uint32_t Lookup(const std::string& blob, const uint32_t* meta, size_t nvars);

 private:
  std::vector<std::string> keys_;                   // id - 1 → names, each followed by '\0'
  std::unordered_map<uint64_t, uint32_t> by_hash_;  // hash of the names → id
  // The id Lookup returned last (0: none). Consecutive requests mostly repeat one sequence,
  // and comparing against it with memcmp costs less than hashing every byte of the names.
  uint32_t last_ = 0;
};

}  // namespace tsgi

#endif  // TSGI_LOOP_SHAPES_H_
