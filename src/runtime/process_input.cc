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

Result<void> ProcessInput::resize(TerminalSize size) {
  if (ended_) return fail(ErrorCode::failed_precondition, "the process has ended");
  if (!size.valid()) {
    return fail(ErrorCode::invalid_argument,
                "a terminal is 1 to " + std::to_string(TerminalSize::kCellsMax) +
                    " rows and columns, not " + std::to_string(size.rows) + "x" +
                    std::to_string(size.cols));
  }
  resize_ = size;
  notify();
  return {};
}

std::string ProcessInput::take() { return std::exchange(queued_, std::string()); }

void ProcessInput::end() {
  ended_ = true;
  queued_.clear();
  resize_.reset();
  ready_ = nullptr;
}

}  // namespace reliant
