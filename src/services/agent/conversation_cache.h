// ConversationCache: the threads a worker's nodes read lately, so that a model turn reads only the
// messages stored since the last one instead of the whole conversation — with its blocks parsed
// again — on every turn. Sound because a thread only grows: messages are appended, never changed,
// with ordinals that grow in commit order (each new message takes the chat's highest ordinal +
// 1, so a message with a higher ordinal commits after every lower one), and a fork inherits only
// what its source had when it forked. A compaction's summary, once read, drops what came before
// it, as load_thread does. Bounded in threads and in messages per thread; the least recently used
// thread goes first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/lru_map.h"
#include "runtime/llm.h"
#include "runtime/task.h"
#include "services/storage/chats.h"

namespace reliant::agent {

// A thread as a node sees it (load_thread), and what of it has been read.
struct KeptThread {
  std::vector<MessageRecord> messages;
  // `messages` as a model reads them (to_llm), in step; shared with the requests made from it
  // (llm::Request::earlier), so it is copied before a change while a request holds it.
  std::shared_ptr<std::vector<llm::Message>> conversation;
  std::int64_t through_ordinal = 0;  // every message of the thread up to this one has been read
  bool known = false;                // false: nothing read yet, the whole thread is to be read
};

// What read_thread_since read.
struct ThreadRead {
  std::vector<MessageRecord> messages;
  // False for a thread not recorded yet: what it will inherit is not known until it is (threads.h
  // records a fork when it is first used), so nothing of it may be kept.
  bool settled = true;
};

// A statement of the caller's to send with a thread's read, and what reads its rows, in the same
// transaction.
struct AlongTheThread {
  SqlStatement statement;
  std::function<Result<void>(SqlTransaction&, const SqlRows&)> read;
};

// Reads, in the caller's transaction, what `kept` lacks of the thread: all of it when nothing is
// known, else its own messages after `kept.through_ordinal` (a fork's inherited part is fixed).
// With `along`: its statement goes with the thread's messages where they are one statement (the
// main thread's, or what a known thread lacks; on Postgres, one round trip), else before them.
Result<ThreadRead> read_thread_since(SqlTransaction& tx, const std::string& chat_id,
                                     const std::string& thread, const KeptThread& kept,
                                     const AlongTheThread* along = nullptr);
// Adds what read_thread_since read.
void extend(KeptThread& kept, ThreadRead read);

class ConversationCache {
 public:
  static constexpr std::size_t kThreadsMax = 64;
  static constexpr std::size_t kMessagesPerThreadMax = 20'000;

  explicit ConversationCache(std::size_t threads = kThreadsMax) : threads_(threads) {}

  // Removes and returns the kept thread (unknown when none is kept): two nodes reading one
  // thread at once never share it.
  KeptThread take(const std::string& chat_id, const std::string& thread);
  // Keeps `kept` unless a thread read further is kept already, or it is too long to keep.
  void put(const std::string& chat_id, const std::string& thread, KeptThread kept);
  std::size_t size() const { return threads_.size(); }

 private:
  LruMap<KeptThread> threads_;  // by chat and thread
};

// The whole thread, read through `cache`: takes the kept copy, reads what it lacks in one
// transaction of `store` (which first runs `prepare`, when given, and reads `along` with the
// thread: read_thread_since), and returns it. The caller puts it back (ConversationCache::put)
// once done with it.
Task<Result<KeptThread>> read_thread(ConversationCache& cache, Store& store, std::string chat_id,
                                     std::string thread,
                                     std::function<Result<void>(SqlTransaction&)> prepare = {},
                                     std::optional<AlongTheThread> along = std::nullopt);

}  // namespace reliant::agent
