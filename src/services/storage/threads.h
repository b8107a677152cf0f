// The conversation threads of a chat (migration 8). "" is the main thread, the one the chat
// shows. A workflow node with `thread: new` talks on an empty thread of its own; with `fork`, on
// one that sees its source's messages up to the fork and then its own. A compaction's summary
// stands for everything before it on the thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/store.h"
#include "services/storage/chats.h"

namespace reliant {

struct ThreadRef {
  std::string id;                   // "" the main thread
  std::optional<std::string> from;  // a fork's source
};

// Forks within forks are bounded, so loading a thread is too.
inline constexpr std::size_t kThreadDepthMax = 32;

// Records the thread the first time it is used (a fork remembers where it forked); the main
// thread and a thread already recorded are left as they are. True when this call recorded it.
Result<bool> ensure_thread(SqlTransaction& tx, const std::string& chat_id, const ThreadRef& thread,
                           std::int64_t now_ms);

// What a node on the thread sees, in order: what it inherits from its sources, then its own
// messages, from the latest summary on. One query per level of forking.
Result<std::vector<MessageRecord>> load_thread(SqlTransaction& tx, const std::string& chat_id,
                                               const std::string& thread);

// A compaction's summary: a system message whose text block says what it replaced.
bool is_summary(const MessageRecord& message);

}  // namespace reliant
