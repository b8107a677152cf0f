// TextPreviews: a model call's streamed text on the user's feed, announced once an executor turn.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/bus.h"
#include "runtime/executor.h"
#include "services/updates/user_events.h"

namespace reliant::agent {

// The `text_delta` previews of one model call. The deltas a stream hands over in one executor
// turn — the scripted model's word groups, the server-sent events one read of a real model's
// response brought — go out as one bus message holding each of them, announced at the end of the
// turn: a chat's answer was three announcements where it is now one, and each costs its
// publisher, nats-server and every api replica a message (issue 44). Each delta stays an update
// of its own, with its own time, so readers see what they saw before.
//
// flush() announces what is pending at once: call it when the model call returns, before
// anything else about the message is announced. What is still pending when the previews are
// destroyed (a cancelled step) is dropped: previews are best effort, the stored message is the
// truth.
class TextPreviews {
 public:
  TextPreviews(Executor& executor, Bus* bus, std::string user_id, std::string chat_id);
  TextPreviews(const TextPreviews&) = delete;
  TextPreviews& operator=(const TextPreviews&) = delete;

  // A delta of the message: `body` holds the message's ids and `text`.
  void add(nlohmann::json body);
  void flush();

 private:
  // A batch's bounds, far below NATS's 1 MiB payload: beyond either it goes out at once.
  static constexpr std::size_t kDeltasMax = 64;
  static constexpr std::size_t kBytesMax = 64u << 10;

  struct Pending {
    Bus* bus;
    std::vector<updates::UserEvent> events;
    std::size_t bytes = 0;
    bool flush_posted = false;
    void flush();
  };

  Executor& executor_;
  std::string user_id_;
  std::string chat_id_;
  // Shared with the flush posted for the turn, which does nothing once the previews are gone.
  std::shared_ptr<Pending> pending_;
};

}  // namespace reliant::agent
