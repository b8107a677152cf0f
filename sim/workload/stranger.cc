// A stranger dialling managed daemons, and stranger_refused (see the header).
#include "sim/workload/stranger.h"

#include "core/managed_dial_key.h"
#include "protocol/codec.h"
#include "reliant/daemon/v1/daemon.pb.h"
#include "runtime/scope.h"
#include "runtime/sleep.h"

namespace reliant::sim {
namespace {

// How long a stream is watched for a frame: a served stream's Register comes within a round
// trip, and a daemon under a paused host answers late but still answers.
constexpr Duration kWatch = seconds(3);

class StrangerClient {
 public:
  StrangerClient(Env& env, ClientShared shared)
      : env_(env), shared_(std::move(shared)), scope_(env.executor) {
    for (const auto& machine : shared_.impl->machines) {
      if (machine->config.managed) daemons_.push_back(machine.get());
    }
    scope_.spawn(loop());
  }

 private:
  Task<void> loop() {
    for (;;) {
      Sleep pausing(env_.executor, shared_.config.interval);
      co_await pausing;
      if (daemons_.empty()) continue;
      const ToolPathWorkload::Machine* target = daemons_[env_.random.below(daemons_.size())];
      const ToolPathWorkload::Machine* other = daemons_[env_.random.below(daemons_.size())];
      Metadata metadata;
      std::string shown = "no key";
      switch (env_.random.between(std::int64_t{0}, 2)) {
        case 0:
          break;
        case 1:
          metadata[std::string(kDialKeyMetadata)] = "not-a-dial-key";
          shown = "a made-up key";
          break;
        default:
          // The key of another daemon (a tenant's own pod reaching for its neighbour's).
          if (other == target) break;
          if (const SimPods::Pod* pod = shared_.impl->pods->find(other->daemon_id)) {
            metadata[std::string(kDialKeyMetadata)] = pod->dial_key;
            shown = other->node + "'s key";
          }
      }
      Task<void> trying = try_daemon(*target, std::move(metadata), shown);
      co_await trying;
    }
  }

  Task<void> try_daemon(const ToolPathWorkload::Machine& target, Metadata metadata,
                        std::string shown) {
    Task<Result<StreamPtr>> dialing =
        env_.transport->dial(managed_address(target.node), std::move(metadata), kWatch);
    Result<StreamPtr> stream = co_await dialing;
    if (!stream) co_return;  // its pod is down, or the network is: nothing was served
    auto watched = std::make_shared<std::optional<Result<std::string>>>();
    Scope watching(env_.executor);
    watching.spawn(receive_into(**stream, watched));
    Sleep waiting(env_.executor, kWatch);
    co_await waiting;
    if (watched->has_value() && (*watched)->has_value()) {
      auto frame = protocol::decode<daemon::v1::DaemonFrame>(***watched);
      shared_.impl->checker.violation(
          env_.executor.now(), "stranger_refused",
          shared_.node + " dialled " + target.node + " with " + shown + " and was sent " +
              (frame && frame->has_register_() ? std::string("its Register") : "a frame"));
    } else if (watched->has_value()) {
      sometimes(env_, "stranger.refused");
    }
    (*stream)->close();
  }

  static Task<void> receive_into(Stream& stream,
                                 std::shared_ptr<std::optional<Result<std::string>>> out) {
    Task<Result<std::string>> next = stream.receive();
    *out = co_await next;
  }

  Env& env_;
  ClientShared shared_;
  std::vector<const ToolPathWorkload::Machine*> daemons_;
  Scope scope_;  // last: destroyed first
};

}  // namespace

std::shared_ptr<void> start_stranger_client(Env& env, ClientShared shared) {
  return std::make_shared<StrangerClient>(env, std::move(shared));
}

}  // namespace reliant::sim
