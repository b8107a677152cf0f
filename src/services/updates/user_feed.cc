// UserFeed: announcements that continue the sequence are queued as they come, and those ahead of
// a missing number wait a little for it; a gap that stays, a fresh start or the poll reads the
// store from the last number queued, so the queue always holds a gapless run of numbers.
#include "services/updates/user_feed.h"

#include <memory>

#include "base/assert.h"

namespace reliant::updates {

Result<std::unique_ptr<UserFeed>> UserFeed::open(Env& env, FeedOptions options) {
  std::unique_ptr<UserFeed> feed(new UserFeed(env, std::move(options)));
  UserFeed* raw = feed.get();
  auto subscription =
      raw->options_.announcements != nullptr
          ? raw->options_.announcements->listen(
                raw->options_.user_id, [raw](const Announcement& a) { raw->on_announcement(a); })
          : env.bus->subscribe(user_subject(raw->options_.user_id), [raw](const BusMessage& m) {
              // Malformed: nothing lost, the store has the events.
              if (auto events = decode_announcement(m.data))
                raw->on_announcement(Announcement{*events, m.data.size()});
            });
  if (!subscription) return fail(subscription.error());
  feed->subscription_ = std::move(*subscription);
  if (feed->options_.budget != nullptr) feed->budget_share_ = feed->options_.budget->join(*feed);
  return feed;
}

UserFeed::UserFeed(Env& env, FeedOptions options)
    : env_(env),
      options_(std::move(options)),
      position_(options_.since_seq),
      resume_seq_(options_.since_seq),
      tail_(options_.since_seq) {}

UserFeed::~UserFeed() {
  if (budget_share_ != 0) options_.budget->leave(budget_share_);
}

void UserFeed::overflow() {
  overflowed_ = true;
  ready_.clear();
  ready_.shrink_to_fit();
  ready_announced_bytes_ = 0;
  early_.clear();
  gap_deadline_.reset();
  if (waiter_) waiter_->set(true);
}

void UserFeed::give_up() {
  // Called by the budget, which has taken this feed's bytes off its count already.
  gave_up_ = true;
  overflow();
  holding_bytes_ = 0;
}

void UserFeed::holding(std::size_t bytes) {
  holding_bytes_ = bytes;
  report_held();
}

void UserFeed::report_held() {
  if (budget_share_ == 0 || gave_up_) return;
  options_.budget->hold(budget_share_, ready_announced_bytes_ + holding_bytes_);
}

bool UserFeed::wanted(const UserEvent& event) const {
  if (event.user_id != options_.user_id) return false;
  if (event.seq == 0 && !options_.previews) return false;
  return options_.chat_id.empty() || event.chat_id == options_.chat_id;
}

UserEvent UserFeed::kept(const UserEvent& event) const {
  if (wanted(event)) return event;
  UserEvent number;  // another chat's (the body is not copied): it only moves the tail on
  number.user_id = event.user_id;
  number.seq = event.seq;
  number.chat_id = event.chat_id;
  return number;
}

void UserFeed::take_next(UserEvent event) {
  // Announcements come here only as tail_ + 1; the store's numbers have no gaps by construction,
  // and should a damaged store have one, the feed goes on past it rather than stopping.
  tail_ = event.seq;
  if (wanted(event)) ready_.push_back(std::move(event));
  take_waiting();
}

void UserFeed::take_waiting() {
  for (;;) {
    auto waiting = early_.begin();
    while (waiting != early_.end() && waiting->first <= tail_) waiting = early_.erase(waiting);
    if (waiting == early_.end() || waiting->first != tail_ + 1) break;
    UserEvent event = std::move(waiting->second);
    early_.erase(waiting);
    tail_ = event.seq;
    if (wanted(event)) ready_.push_back(std::move(event));
  }
  if (early_.empty()) gap_deadline_.reset();
}

void UserFeed::skip_to(std::int64_t seq) {
  if (seq <= tail_) return;
  tail_ = seq;
  take_waiting();
}

void UserFeed::take_page(EventsPage page) {
  for (auto& event : page.events) {
    // Announcements queued while the read was in flight may have moved the tail on already.
    if (event.seq <= tail_) continue;
    skip_to(event.seq - 1);  // may take this very event, announced early while the read ran
    if (event.seq <= tail_) continue;
    take_next(std::move(event));
  }
  skip_to(page.covered_seq);
}

void UserFeed::on_announcement(const Announcement& announcement) {
  if (overflowed_ || gone_) return;
  // The bus may lose an announcement: the next one shows the gap, the store has the events.
  if (buggify(env_, "feed.announcement_lost")) return;
  if (ready_announced_bytes_ + announcement.bytes > options_.queued_bytes_max) {
    // The client does not keep up: stop holding updates for it (the store has them all).
    overflow();
    report_held();
    return;
  }
  const std::size_t queued_before = ready_.size();
  bool woke = false;
  for (const UserEvent& event : announcement.events) {
    if (event.seq == 0) {
      if (wanted(event)) {
        ready_.push_back(event);
        woke = true;
      }
    } else if (event.seq == tail_ + 1 && !poll_due_) {
      take_next(kept(event));
      woke = true;
    } else if (event.seq > tail_ && !poll_due_ && early_.size() < options_.early_max) {
      // A gap: another writer's announcement may still be on its way (commits are numbered in
      // order, but each writer announces its own), or the bus lost it.
      sometimes(env_, "feed.gap_seen");
      early_.emplace(event.seq, kept(event));
      if (!gap_deadline_) {
        gap_deadline_ = env_.executor.steady_now() + options_.gap_wait;
        woke = true;  // next() waits until then at most
      }
    } else if (event.seq > tail_) {
      // Too far behind to wait (or a read is due anyway): the store has the events.
      poll_due_ = true;
      woke = true;
    }
  }
  if (ready_.size() > queued_before) {
    ready_announced_bytes_ += announcement.bytes;
    report_held();  // may make this feed, or a larger one, give up
  }
  if (woke && waiter_) waiter_->set(true);
}

void UserFeed::interrupt() {
  interrupted_ = true;
  if (waiter_) waiter_->set(true);
}

Task<void> UserFeed::wait(Duration timeout) {
  auto [promise, future] = make_promise<bool>(env_.executor);
  waiter_ = promise;
  ScopedTimer timer(env_.executor,
                    env_.executor.after(timeout, [promise = promise] { promise.set(false); }));
  const bool woken = co_await future;
  waiter_.reset();
  if (!woken) poll_due_ = true;
}

Error UserFeed::overflow_error() const {
  RELIANT_ASSERT(overflowed_);
  const std::string why =
      gave_up_ ? "the server holds too many updates for clients that read slowly, and this "
                 "stream held the most"
               : "the client reads updates too slowly (more than " +
                     std::to_string(options_.queued_bytes_max) + " bytes waited for it)";
  return Error{ErrorCode::resource_exhausted,
               why + "; resume from since_seq " + std::to_string(resume_seq_)};
}

void UserFeed::end_gone(bool ahead) {
  const std::string why =
      ahead ? "there is no update " + std::to_string(tail_) +
                  " yet (the number comes from elsewhere, perhaps another server's data)"
            : "the updates after " + std::to_string(tail_) +
                  " are no longer kept (a user's updates are kept " +
                  std::to_string(kUserEventsKeptMs / (24 * 60 * 60 * 1000)) + " days)";
  gone_ = Error{ErrorCode::failed_precondition,
                why + ": read the state afresh and follow from the current head"};
  // Done: nothing more is held for its client, nor taken from announcements.
  ready_.clear();
  ready_announced_bytes_ = 0;
  early_.clear();
  gap_deadline_.reset();
  report_held();
}

Task<Result<std::vector<UserEvent>>> UserFeed::next(Duration wait_max) {
  const SteadyInstant deadline = env_.executor.steady_now() + wait_max;
  for (;;) {
    if (gone_) co_return fail(*gone_);
    if (overflowed_) co_return fail(overflow_error());
    // Called again with no overflow: the caller wrote all it was given.
    resume_seq_ = position_;
    if (holding_bytes_ != 0) {
      holding_bytes_ = 0;  // the caller is done with the last batch
      report_held();
    }
    if (poll_due_) {
      poll_due_ = false;
      ++store_reads_;
      // Short pages exercise the catching up over several reads.
      const std::int64_t batch = buggify(env_, "feed.short_page") ? 1 : options_.batch;
      // A chat's feed reads that chat's events alone: catching up from an old number then
      // costs the chat's events, not every event of its user.
      Task<Result<EventsPage>> reading =
          env_.store->transact_for([user = options_.user_id, chat = options_.chat_id, since = tail_,
                                    limit = batch](SqlTransaction& tx) -> Result<EventsPage> {
            return read_events_page(tx, user, chat, since, limit);
          });
      Result<EventsPage> read = co_await reading;
      if (!read) {
        poll_due_ = true;
        co_return fail(read.error());
      }
      if (read->gone || read->ahead) {
        end_gone(read->ahead);
        co_return fail(*gone_);
      }
      const bool full = static_cast<std::int64_t>(read->events.size()) >= batch;
      take_page(std::move(*read));
      if (full) poll_due_ = true;
      // What waited past the gap was committed before its announcement came, so a read begun
      // after that covered it; what came during the read waits on, with its deadline.
    }
    if (!ready_.empty()) {
      std::vector<UserEvent> out = std::move(ready_);
      ready_.clear();
      ready_announced_bytes_ = 0;
      report_held();
      position_ = tail_;
      co_return out;
    }
    position_ = tail_;
    if (interrupted_) {
      interrupted_ = false;
      co_return std::vector<UserEvent>{};
    }
    if (poll_due_) continue;
    const SteadyInstant now = env_.executor.steady_now();
    if (gap_deadline_ && now >= *gap_deadline_) {
      sometimes(env_, "feed.gap_read");  // the missing announcement did not come in time
      poll_due_ = true;
      continue;
    }
    if (now >= deadline) co_return std::vector<UserEvent>{};
    Duration timeout = std::min<Duration>(options_.poll_interval, deadline - now);
    if (gap_deadline_) timeout = std::min<Duration>(timeout, *gap_deadline_ - now);
    co_await wait(timeout);
  }
}

}  // namespace reliant::updates
