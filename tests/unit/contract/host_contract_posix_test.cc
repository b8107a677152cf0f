// The Host contract on the real host: processes and files in a temporary directory.

#include <filesystem>
#include <fstream>

#include "adapters/host/posix_host.h"
#include "unit/contract/host_contract.h"
#include "unit/support/temp_dir.h"

namespace reliant::contract {
namespace {

namespace fs = std::filesystem;

class PosixMachine {
 public:
  PosixMachine() {
    // As the daemon and the monolith are: orphans of commands come here to be found and killed.
    (void)enable_child_subreaper();
    host_ = std::make_unique<PosixHost>(executor_, temp_.string());
    scope_ = std::make_unique<Scope>(executor_);
  }
  ~PosixMachine() {
    scope_.reset();
    host_.reset();
  }
  std::string work_dir() const { return temp_.string(); }
  Host& host() { return *host_; }
  Executor& executor() { return executor_; }
  std::unique_ptr<Host> confined_host() {
    fs::create_directories(temp_.string() + "/inside");
    PosixHostOptions options;
    options.working_dir = temp_.string() + "/inside";
    options.roots = {temp_.string() + "/inside"};
    return std::make_unique<PosixHost>(executor_, options);
  }
  std::unique_ptr<Host> private_host() {
    const std::string inside = temp_.string() + "/inside";
    fs::create_directories(inside + "/data/auth");
    std::ofstream(inside + "/data/auth/token") << "s3cret";
    PosixHostOptions options;
    options.working_dir = inside;
    options.roots = {inside};
    options.excluded = {inside + "/data"};
    return std::make_unique<PosixHost>(executor_, options);
  }
  template <class T>
  T wait(Task<T> task) {
    std::optional<T> out;
    scope_->spawn(await_into(std::move(task), &out));
    run_while([&] { return !out.has_value(); }, seconds(20));
    EXPECT_TRUE(out.has_value()) << "timed out";
    return std::move(*out);
  }
  void run_for(Duration d) {
    run_while([] { return true; }, d);
  }

 private:
  // Runs the loop while `busy` holds, at most `limit` (a tick rechecks conditions that change
  // without a handler of their own).
  template <class F>
  void run_while(F busy, Duration limit) {
    bool expired = false;
    const TimerId deadline = executor_.after(limit, [&] { expired = true; });
    std::function<void()> tick;
    TimerId ticker = 0;
    tick = [&] { ticker = executor_.after(milliseconds(5), tick); };
    tick();
    executor_.run_until([&] { return expired || !busy(); });
    executor_.cancel(deadline);
    executor_.cancel(ticker);
  }

  AsioExecutor executor_;
  testing::TempDir temp_{"reliant-host-contract"};  // removed after the host is gone
  std::unique_ptr<PosixHost> host_;
  std::unique_ptr<Scope> scope_;
};

using Posix = ::testing::Types<PosixMachine>;
INSTANTIATE_TYPED_TEST_SUITE_P(Posix, HostContract, Posix);

}  // namespace
}  // namespace reliant::contract
