// A request is: subscribe to a fresh inbox, publish with it as reply_to, take the first of
// {reply, no-responders status, timer}.
#include "runtime/bus_request.h"

#include "runtime/future.h"

namespace reliant {

Task<Result<BusMessage>> request_over_inbox(Bus& bus, Executor& executor, std::string subject,
                                            std::string data, Duration timeout) {
  auto [promise, future] = make_promise<Result<BusMessage>>(executor);
  const std::string inbox = bus.new_inbox();
  auto subscription = bus.subscribe(inbox, [promise = promise, subject](const BusMessage& reply) {
    if (reply.no_responders) {
      promise.set(fail(ErrorCode::no_responders, "no responders on " + subject));
    } else {
      promise.set(reply);
    }
  });
  if (!subscription) co_return fail(subscription.error());
  ScopedTimer timer(executor, executor.after(timeout, [promise = promise, subject, timeout] {
    promise.set(
        fail(ErrorCode::timeout, "no reply on " + subject + " within " + format_duration(timeout)));
  }));
  auto published = bus.publish(subject, std::move(data), inbox);
  if (!published) co_return fail(published.error());
  Result<BusMessage> reply = co_await future;
  co_return reply;
}

}  // namespace reliant
