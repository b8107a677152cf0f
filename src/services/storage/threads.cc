// Threads: a row per thread that is not the main one, and the walk up a fork's sources.
#include "services/storage/threads.h"

#include <algorithm>
#include <limits>

#include "services/storage/sql_row.h"

namespace reliant {

Result<bool> ensure_thread(SqlTransaction& tx, const std::string& chat_id, const ThreadRef& thread,
                           std::int64_t now_ms) {
  if (thread.id.empty()) return false;
  auto found =
      tx.query("SELECT id FROM threads WHERE chat_id = $1 AND id = $2", {chat_id, thread.id});
  if (!found) return fail(found.error());
  if (!found->rows.empty()) return false;
  // Ordinals count across the chat's threads, so the fork sees what its source had so far.
  auto last =
      tx.query("SELECT COALESCE(MAX(ordinal), 0) AS last_ordinal FROM messages WHERE chat_id = $1",
               {chat_id});
  if (!last) return fail(last.error());
  const std::int64_t forked_at = thread.from ? first_record(*last).integer("last_ordinal") : 0;
  SqlValue parent = thread.from ? SqlValue(*thread.from) : SqlValue(nullptr);
  auto inserted = tx.execute(
      "INSERT INTO threads (chat_id, id, parent, forked_at_ordinal, created_at_ms) "
      "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
      {chat_id, thread.id, parent, forked_at, now_ms});
  if (!inserted) return fail(inserted.error());
  return *inserted > 0;
}

Result<std::vector<MessageRecord>> load_thread(SqlTransaction& tx, const std::string& chat_id,
                                               const std::string& thread) {
  // The thread and its sources, each with the last ordinal of it that is seen.
  std::vector<std::pair<std::string, std::int64_t>> levels = {
      {thread, std::numeric_limits<std::int64_t>::max()}};
  while (!levels.back().first.empty()) {
    if (levels.size() > kThreadDepthMax) {
      return fail(ErrorCode::failed_precondition, "thread " + thread + " is forked more than " +
                                                      std::to_string(kThreadDepthMax) +
                                                      " levels deep");
    }
    auto row =
        tx.query("SELECT parent, forked_at_ordinal FROM threads WHERE chat_id = $1 AND id = $2",
                 {chat_id, levels.back().first});
    if (!row) return fail(row.error());
    if (row->rows.empty()) break;  // not used yet: nothing on it
    const SqlRecord record = first_record(*row);
    auto parent = record.optional_text("parent");
    if (!parent) break;  // a new thread: nothing inherited
    levels.emplace_back(*parent,
                        std::min(levels.back().second, record.integer("forked_at_ordinal")));
  }
  std::vector<MessageRecord> messages;
  for (const auto& [id, through] : levels) {
    auto own = load_thread_messages(tx, chat_id, id, through);
    if (!own) return fail(own.error());
    messages.insert(messages.end(), std::make_move_iterator(own->begin()),
                    std::make_move_iterator(own->end()));
  }
  std::sort(messages.begin(), messages.end(),
            [](const MessageRecord& a, const MessageRecord& b) { return a.ordinal < b.ordinal; });
  const auto summary = std::find_if(messages.rbegin(), messages.rend(), is_summary);
  if (summary != messages.rend()) {
    messages.erase(messages.begin(), std::prev(summary.base()));
  }
  return messages;
}

bool is_summary(const MessageRecord& message) {
  return message.role == "system" && !message.blocks.empty() &&
         message.blocks.front().kind == "text" &&
         message.blocks.front().body.value("summary", false);
}

}  // namespace reliant
