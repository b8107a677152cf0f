// The update budget: shares by holder, and the largest asked to give up while over the bound.
// Scanning for the largest is O(holders), and happens only past the bound.
#include "services/updates/update_budget.h"

#include "base/assert.h"

namespace reliant::updates {

UpdateBudget::UpdateBudget(std::size_t bytes_max) : bytes_max_(bytes_max) {
  RELIANT_ASSERT(bytes_max_ > 0);
}

std::uint64_t UpdateBudget::join(Holder& holder) {
  const std::uint64_t id = next_id_++;
  shares_.emplace(id, Share{&holder, 0, false});
  return id;
}

void UpdateBudget::leave(std::uint64_t id) {
  const auto share = shares_.find(id);
  RELIANT_ASSERT(share != shares_.end());
  RELIANT_ASSERT(held_bytes_ >= share->second.bytes);
  held_bytes_ -= share->second.bytes;
  shares_.erase(share);
}

void UpdateBudget::hold(std::uint64_t id, std::size_t bytes) {
  const auto share = shares_.find(id);
  RELIANT_ASSERT(share != shares_.end());
  RELIANT_ASSERT(held_bytes_ >= share->second.bytes);
  held_bytes_ = held_bytes_ - share->second.bytes + bytes;
  share->second.bytes = bytes;
  if (held_bytes_ > bytes_max_) enforce();
}

void UpdateBudget::enforce() {
  while (held_bytes_ > bytes_max_) {
    Share* largest = nullptr;
    for (auto& [id, share] : shares_) {
      if (share.gave_up || share.bytes == 0) continue;
      if (largest == nullptr || share.bytes > largest->bytes) largest = &share;
    }
    if (largest == nullptr) return;  // what is left is held by streams that gave up already
    largest->gave_up = true;
    ++given_up_;
    RELIANT_ASSERT(held_bytes_ >= largest->bytes);
    held_bytes_ -= largest->bytes;
    largest->bytes = 0;
    largest->holder->give_up();
  }
}

}  // namespace reliant::updates
