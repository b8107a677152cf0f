// What the chat agent's steps and the workflow nodes' activities share: the conversation as the
// model sees it, a message stored once with its update, the end of a chat's run, heartbeats
// while waiting on something slow, and the cancel of a tool call its attempt abandoned.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/bus.h"
#include "runtime/executor.h"
#include "runtime/llm.h"
#include "runtime/scope.h"
#include "runtime/store.h"
#include "services/routing/daemon_router.h"
#include "services/storage/chats.h"
#include "services/updates/user_events.h"
#include "services/worker/activity.h"

namespace reliant::agent {

// A stored message as the model sees it (thinking and error blocks are not sent back).
llm::Message to_llm(const MessageRecord& stored);

// How a run ends, recorded on its chat.
struct RunEnding {
  std::string run_id;
  ChatStatus status = ChatStatus::idle;  // idle, failed, or cancelled (by its user)
  std::string outcome;                   // completed | max_turns | failed | cancelled
  std::string error;
};

// Moves the chat out of `running` and records a chat_status update — only while `run_id` is
// still the chat's current run (a cancelled run's late steps change nothing).
Result<void> end_run(SqlTransaction& tx, const std::string& user_id, const std::string& chat_id,
                     const RunEnding& ending, std::int64_t now_ms,
                     std::vector<updates::UserEvent>& events);

// Writes `message` once and, when this call wrote it to the main thread, its `message` update —
// and, with an `ending`, the end of the run in the same transaction (the user sees the answer
// and the end together); then announces. Returns the stored message (the first attempt's, when
// a retry got here second).
Task<Result<MessageRecord>> store_message(Store& store, Bus* bus, std::string user_id,
                                          MessageRecord message, std::optional<RunEnding> ending);
// store_message's writes, inside a transaction the caller holds; the updates go to `events`.
Result<MessageRecord> write_message(SqlTransaction& tx, SqlDialect dialect,
                                    const std::string& user_id, const MessageRecord& message,
                                    const std::optional<RunEnding>& ending,
                                    std::vector<updates::UserEvent>& events);

// `body` as an activity's StoreWork (services/worker/activity.h) with `result`: its updates
// are numbered last in the worker's transaction and announced once it commits — what
// updates::commit_and_announce does for a transaction of its own.
engine::StoreWork store_work_with_updates(
    Store& store, Bus* bus, nlohmann::json result,
    std::function<Result<void>(SqlTransaction&, std::vector<updates::UserEvent>&)> body);

// Beats for an activity that waits on something slow (a model, a tool), so a worker that dies
// mid-step is noticed after the heartbeat timeout rather than the whole start-to-close time.
Task<void> keep_alive(Executor& executor, std::function<void()> heartbeat);

// Lives in the frame of work an attempt started elsewhere (a tool call on a daemon, a child
// run). If the frame goes before the work settled — the attempt was cancelled because its run
// was cancelled or its lease lost — `undo` is started in the cleanup scope, so the work does
// not run on after the run.
struct UndoIfAbandoned {
  Scope* cleanup;
  std::function<Task<void>()> undo;
  bool settled = false;
  ~UndoIfAbandoned();
};

// Asks the daemon to stop a tool call (its process tree is killed there); best effort.
Task<void> cancel_tool_call(routing::DaemonRouter* router, std::string user_id,
                            std::string daemon_id, std::string request_id);

// A preview on the user's feed (text as it streams, a tool starting): announced, not stored.
void preview(Bus* bus, const std::string& user_id, const std::string& chat_id, std::string kind,
             nlohmann::json body, std::int64_t now_ms);

}  // namespace reliant::agent
