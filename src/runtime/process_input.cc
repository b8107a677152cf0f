// ProcessInput: the caller's side queues, the host's side takes (see the header).
#include "runtime/process_input.h"

#include <utility>

namespace reliant {

Result<void> ProcessInput::write(std::string data) {
  if (ended_) return fail(ErrorCode::failed_precondition, "the process has ended");
  if (closed_) return fail(ErrorCode::failed_precondition, "the process's input is closed");
  if (queued_.size() + data.size() > queued_limit_bytes_) {
    return fail(ErrorCode::resource_exhausted,
                "the process is not reading its input (" + std::to_string(queued_.size()) +
                    " bytes wait, the limit is " + std::to_string(queued_limit_bytes_) + ")");
  }
  queued_ += data;
  notify();
  return {};
}

void ProcessInput::close() {
  if (closed_ || ended_) return;
  closed_ = true;
  notify();
}

std::string ProcessInput::take() { return std::exchange(queued_, std::string()); }

void ProcessInput::end() {
  ended_ = true;
  queued_.clear();
  ready_ = nullptr;
}

}  // namespace reliant
