// TextPreviews: batches a model call's text deltas by executor turn (see the header).
#include "services/agent/text_previews.h"

#include <utility>

namespace reliant::agent {

TextPreviews::TextPreviews(Executor& executor, Bus* bus, std::string user_id, std::string chat_id)
    : executor_(executor),
      user_id_(std::move(user_id)),
      chat_id_(std::move(chat_id)),
      pending_(std::make_shared<Pending>(Pending{bus, {}})) {}

void TextPreviews::add(nlohmann::json body) {
  if (pending_->bus == nullptr) return;
  const std::int64_t now_ms = to_ms(executor_.now());
  if (const auto text = body.find("text"); text != body.end() && text->is_string()) {
    pending_->bytes += text->get_ref<const std::string&>().size();
  }
  pending_->events.push_back({user_id_, 0, "text_delta", chat_id_, std::move(body), now_ms});
  if (pending_->events.size() >= kDeltasMax || pending_->bytes >= kBytesMax) {
    pending_->flush();
    return;
  }
  if (pending_->flush_posted) return;
  pending_->flush_posted = true;
  executor_.post([weak = std::weak_ptr<Pending>(pending_)] {
    if (auto pending = weak.lock()) pending->flush();
  });
}

void TextPreviews::flush() { pending_->flush(); }

void TextPreviews::Pending::flush() {
  flush_posted = false;
  if (events.empty()) return;
  updates::announce(*bus, events);
  events.clear();
  bytes = 0;
}

}  // namespace reliant::agent
