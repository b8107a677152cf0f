// The Host contract on the real host: processes and files in a temporary directory.
#include <unistd.h>

#include <filesystem>

#include "adapters/host/posix_host.h"
#include "unit/contract/host_contract.h"

namespace reliant::contract {
namespace {

namespace fs = std::filesystem;

class PosixMachine {
 public:
  PosixMachine() {
    std::string pattern = (fs::temp_directory_path() / "reliant-host-contract-XXXXXX").string();
    EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = fs::canonical(pattern).string();
    host_ = std::make_unique<PosixHost>(executor_, dir_);
    scope_ = std::make_unique<Scope>(executor_);
  }
  ~PosixMachine() {
    scope_.reset();
    host_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  std::string work_dir() const { return dir_; }
  Host& host() { return *host_; }
  Executor& executor() { return executor_; }
  std::unique_ptr<Host> confined_host() {
    fs::create_directories(dir_ + "/inside");
    PosixHostOptions options;
    options.working_dir = dir_ + "/inside";
    options.roots = {dir_ + "/inside"};
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
  std::string dir_;
  std::unique_ptr<PosixHost> host_;
  std::unique_ptr<Scope> scope_;
};

using Posix = testing::Types<PosixMachine>;
INSTANTIATE_TYPED_TEST_SUITE_P(Posix, HostContract, Posix);

}  // namespace
}  // namespace reliant::contract
