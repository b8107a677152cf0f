// The daemon's commands and typed calls by command_id, so that one the bus delivered twice runs
// once: a late copy of a file write would put back what the writes after it replaced. It knows
// the commands running, the last kFinishedMax finished, and the answers of the last
// kAnswersKeptMax of those that were small enough to keep. In memory only: a restarted daemon
// would run a late copy again.
#pragma once

#include <cstddef>
#include <set>
#include <string>

#include "reliant/daemon/v1/daemon.pb.h"
#include "services/daemon/result_cache.h"
#include "services/daemon/tool_runner.h"

namespace reliant::daemon {

class CommandsOnce {
 public:
  static constexpr std::size_t kFinishedMax = 4096;
  static constexpr std::size_t kAnswersKeptMax = 256;
  static constexpr std::size_t kAnswerKeptBytesMax = 64 * 1024;

  enum class Seen { first, running, finished };

  // What `id` is to the daemon; the first time, it is running from now on. A command without an
  // id (from a gateway that gives none) is always seen first and never remembered.
  Seen begin(const std::string& id) {
    if (id.empty()) return Seen::first;
    if (finished_.contains(id)) return Seen::finished;
    if (!running_.insert(id).second) return Seen::running;
    return Seen::first;
  }

  // `id` answered: its answer is kept for copies when small enough.
  void finish(const std::string& id, const v1::DaemonCommandResult& answer) {
    if (id.empty()) return;
    running_.erase(id);
    finished_.add(id);
    if (answer.ByteSizeLong() <= kAnswerKeptBytesMax) answers_.put(id, answer);
  }

  // What a copy of finished `id` is told: its first answer when kept, else that it ran.
  v1::DaemonCommandResult repeated(const std::string& id) const {
    if (const v1::DaemonCommandResult* kept = answers_.find(id)) return *kept;
    v1::DaemonCommandResult refused;
    refused.set_command_id(id);
    refused.set_ok(false);
    refused.set_error_code("already_exists");
    refused.set_error_message("command " + id +
                              " ran already: its answer went to its first delivery");
    return refused;
  }

 private:
  std::set<std::string> running_;
  MemoryRequestJournal finished_{kFinishedMax};
  ResultCache<v1::DaemonCommandResult> answers_{kAnswersKeptMax};
};

}  // namespace reliant::daemon
