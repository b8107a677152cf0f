// UpdateBudget: the bytes all the update streams of one server hold for clients that read
// slowly, together, and the bound on them. Each stream's feed is bounded by itself
// (FeedOptions::queued_bytes_max), but a few hundred streams that never read each held their
// bound: 200 took a monolith to 2.1 GB. Past this budget the streams that hold the most give up
// first — their clients resume from since_seq and read the rest from the store at their own
// pace — until the others fit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

namespace reliant::updates {

class UpdateBudget {
 public:
  // What holds bytes (a feed). give_up() drops what it holds and ends its stream; it must not
  // call back into the budget.
  class Holder {
   public:
    virtual ~Holder() = default;
    virtual void give_up() = 0;
  };

  explicit UpdateBudget(std::size_t bytes_max);
  UpdateBudget(const UpdateBudget&) = delete;
  UpdateBudget& operator=(const UpdateBudget&) = delete;

  // Registers `holder` (holding nothing yet) until leave(id).
  std::uint64_t join(Holder& holder);
  void leave(std::uint64_t id);
  // `id`'s holder now holds `bytes`. Past the budget, holders give up — the one holding the most
  // first, each once — until the rest fit or none is left to ask.
  void hold(std::uint64_t id, std::size_t bytes);

  std::size_t held_bytes() const { return held_bytes_; }
  std::size_t bytes_max() const { return bytes_max_; }
  std::uint64_t given_up() const { return given_up_; }  // holders asked to give up so far

 private:
  struct Share {
    Holder* holder = nullptr;
    std::size_t bytes = 0;
    bool gave_up = false;
  };
  void enforce();

  std::size_t bytes_max_;
  std::size_t held_bytes_ = 0;
  std::uint64_t next_id_ = 1;
  std::uint64_t given_up_ = 0;
  std::unordered_map<std::uint64_t, Share> shares_;
};

}  // namespace reliant::updates
