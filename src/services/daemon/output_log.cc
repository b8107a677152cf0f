// OutputLog: append with batched trims, pages by offset, reads that wait with a timeout.
#include "services/daemon/output_log.h"

#include <algorithm>

#include "base/assert.h"

namespace reliant::daemon {

OutputLog::OutputLog(Executor& executor, std::size_t kept_bytes, std::size_t readers_max)
    : executor_(executor), kept_bytes_(kept_bytes), readers_max_(readers_max) {
  RELIANT_ASSERT(kept_bytes_ > 0 && readers_max_ > 0);
}

OutputLog::~OutputLog() { wake(); }

void OutputLog::append(std::string_view chunk) {
  end_ += chunk.size();
  kept_.append(chunk);
  // Trim in batches: erasing the front on every chunk would copy the buffer every time.
  if (kept_.size() > 2 * kept_bytes_) {
    const std::size_t cut = kept_.size() - kept_bytes_;
    kept_.erase(0, cut);
    kept_from_ += cut;
  }
  RELIANT_ASSERT(kept_from_ + kept_.size() == end_);
  wake();
}

void OutputLog::wake() {
  std::vector<Promise<bool>> woken;
  woken.swap(readers_);
  for (auto& reader : woken) (void)reader.set(true);
}

OutputPage OutputLog::page(std::uint64_t offset, std::size_t bytes_max) const {
  OutputPage out;
  const std::uint64_t from = std::max(std::min(offset, end_), kept_from_);
  out.dropped = from > offset ? from - offset : 0;
  out.data = kept_.substr(static_cast<std::size_t>(from - kept_from_), bytes_max);
  out.offset = from;
  out.next = from + out.data.size();
  return out;
}

Result<OutputLog::Wait> OutputLog::next_output() {
  // Reads that stopped waiting on their own (timed out, returned, destroyed) leave their place.
  std::erase_if(readers_, [](const Promise<bool>& reader) { return reader.is_set(); });
  if (readers_.size() >= readers_max_) {
    return fail(ErrorCode::resource_exhausted,
                std::to_string(readers_max_) + " reads wait on this output already");
  }
  auto pair = make_promise<bool>(executor_);
  readers_.push_back(pair.first);
  return Wait(std::move(pair.first), std::move(pair.second));
}

}  // namespace reliant::daemon
