// An intrusive FIFO of connections ordered by deadline. Every connection in one list waits
// with the same timeout, so appending at the tail keeps the list sorted and the timer only
// ever inspects the head: O(1) to arm, disarm and expire.
#ifndef TSGI_LOOP_CONN_LIST_H_
#define TSGI_LOOP_CONN_LIST_H_

#include <cstdint>

namespace tsgi {

struct Connection;

struct ConnListNode {
  Connection* prev = nullptr;
  Connection* next = nullptr;
  struct ConnList* owner = nullptr;
  uint64_t deadline = 0;
};

struct ConnList {
  Connection* head = nullptr;
  Connection* tail = nullptr;
};

// Defined in connection.cc, where Connection is complete.
void ConnListPush(ConnList* list, Connection* c, uint64_t deadline);
void ConnListRemove(Connection* c);

}  // namespace tsgi

#endif  // TSGI_LOOP_CONN_LIST_H_
