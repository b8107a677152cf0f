// The conversation cache: incremental reads of a thread, and a recency list of kept threads.
#include "services/agent/conversation_cache.h"

#include <algorithm>
#include <memory>

#include "base/assert.h"
#include "services/agent/step_support.h"
#include "services/storage/threads.h"

namespace reliant::agent {
namespace {
std::string key_of(const std::string& chat_id, const std::string& thread) {
  return chat_id + '\n' + thread;
}
}  // namespace

Result<ThreadRead> read_thread_since(SqlTransaction& tx, const std::string& chat_id,
                                     const std::string& thread, const KeptThread& kept,
                                     const AlongTheThread* along) {
  ThreadRead read;
  if (along != nullptr && (kept.known || thread.empty())) {
    // One statement of messages either way: load_thread reads the main thread's so.
    auto both = tx.query_together({thread_messages_statement(chat_id, thread, std::nullopt,
                                                             kept.known ? kept.through_ordinal : 0),
                                   along->statement});
    if (!both) return fail(both.error());
    if (auto ok = along->read(tx, (*both)[1]); !ok) return fail(ok.error());
    read.messages = thread_messages_from((*both)[0]);
    return read;
  }
  if (along != nullptr) {
    auto rows = tx.query(along->statement.sql, along->statement.params);
    if (!rows) return fail(rows.error());
    if (auto ok = along->read(tx, *rows); !ok) return fail(ok.error());
  }
  if (kept.known) {
    auto newer = load_thread_messages(tx, chat_id, thread, std::nullopt, kept.through_ordinal);
    if (!newer) return fail(newer.error());
    read.messages = std::move(*newer);
    return read;
  }
  auto all = load_thread(tx, chat_id, thread);
  if (!all) return fail(all.error());
  read.messages = std::move(*all);
  if (!thread.empty()) {
    auto recorded = tx.query("SELECT 1 AS recorded FROM threads WHERE chat_id = $1 AND id = $2",
                             {chat_id, thread});
    if (!recorded) return fail(recorded.error());
    read.settled = !recorded->rows.empty();
  }
  return read;
}

void extend(KeptThread& kept, ThreadRead read) {
  if (!kept.conversation) {
    kept.conversation = std::make_shared<std::vector<llm::Message>>();
  } else if (kept.conversation.use_count() > 1 && !read.messages.empty()) {
    // A request still reads it: change a copy.
    kept.conversation = std::make_shared<std::vector<llm::Message>>(*kept.conversation);
  }
  std::vector<llm::Message>& conversation = *kept.conversation;
  RELIANT_ASSERT(kept.messages.size() == conversation.size());
  for (auto& message : read.messages) {
    RELIANT_ASSERT(!kept.known || message.ordinal > kept.through_ordinal);
    kept.through_ordinal = std::max(kept.through_ordinal, message.ordinal);
    conversation.push_back(to_llm(message));
    kept.messages.push_back(std::move(message));
  }
  kept.known = read.settled;
  // A summary stands for everything before it on the thread.
  const auto summary = std::find_if(kept.messages.rbegin(), kept.messages.rend(), is_summary);
  if (summary != kept.messages.rend()) {
    const auto dropped = std::distance(kept.messages.begin(), std::prev(summary.base()));
    kept.messages.erase(kept.messages.begin(), kept.messages.begin() + dropped);
    conversation.erase(conversation.begin(), conversation.begin() + dropped);
  }
}

KeptThread ConversationCache::take(const std::string& chat_id, const std::string& thread) {
  std::optional<KeptThread> kept = threads_.take(key_of(chat_id, thread));
  return kept ? std::move(*kept) : KeptThread{};
}

void ConversationCache::put(const std::string& chat_id, const std::string& thread,
                            KeptThread kept) {
  if (!kept.known || kept.messages.size() > kMessagesPerThreadMax) return;
  const std::string key = key_of(chat_id, thread);
  if (const KeptThread* newer = threads_.peek(key);
      newer && newer->through_ordinal >= kept.through_ordinal)
    return;
  threads_.put(key, std::move(kept));
}

Task<Result<KeptThread>> read_thread(ConversationCache& cache, Store& store, std::string chat_id,
                                     std::string thread,
                                     std::function<Result<void>(SqlTransaction&)> prepare,
                                     std::optional<AlongTheThread> along) {
  auto kept = std::make_shared<KeptThread>(cache.take(chat_id, thread));
  // The body only reads `kept`: it may run more than once.
  Task<Result<ThreadRead>> reading =
      store.transact_for([chat_id, thread, kept, prepare = std::move(prepare),
                          along = std::move(along)](SqlTransaction& tx) -> Result<ThreadRead> {
        if (prepare) {
          if (auto ok = prepare(tx); !ok) return fail(ok.error());
        }
        return read_thread_since(tx, chat_id, thread, *kept, along ? &*along : nullptr);
      });
  Result<ThreadRead> read = co_await reading;
  if (!read) co_return fail(read.error());
  extend(*kept, std::move(*read));
  co_return std::move(*kept);
}

}  // namespace reliant::agent
