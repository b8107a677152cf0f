// Client address keys, the accept loop, the spare descriptor and the descriptor limit
// (accepting.h).
#include "adapters/asio/accepting.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "runtime/future.h"
#include "runtime/sleep.h"

namespace reliant {
namespace {

using tcp = boost::asio::ip::tcp;

// Accept failures such as running out of descriptors persist for a while: retry later rather
// than spin.
constexpr Duration kAcceptRetryDelay = milliseconds(50);
// Out of descriptors, waiting clients accepted and refused at once per retry.
constexpr int kShedPerRetryMax = 64;

struct Accepted {
  boost::system::error_code ec;
  tcp::socket socket;
};

Future<Accepted> accept_one(Executor& executor, tcp::acceptor& acceptor) {
  auto pair = make_promise<Accepted>(executor);
  acceptor.async_accept([promise = pair.first](boost::system::error_code ec, tcp::socket socket) {
    promise.set(Accepted{ec, std::move(socket)});
  });
  return std::move(pair.second);
}

// Out of descriptors a waiting client cannot be accepted: the spare makes room to accept the
// waiting clients one by one and refuse them; it is taken back straight after (should
// something else have taken the freed descriptor, on a later retry).
void shed_waiting(tcp::acceptor& acceptor, SpareDescriptor& spare,
                  const std::function<void(tcp::socket&)>& refuse) {
  spare.give_up();
  for (int i = 0; i < kShedPerRetryMax; ++i) {
    tcp::socket shed(acceptor.get_executor());
    boost::system::error_code ec;
    acceptor.accept(shed, ec);  // non-blocking: would_block when none waits
    if (ec) break;
    refuse(shed);
    shed.close(ec);
  }
  spare.take();
}

}  // namespace

Task<void> accept_connections(Executor& executor, tcp::acceptor& acceptor, SpareDescriptor& spare,
                              std::size_t batch, std::function<void(tcp::socket)> take,
                              std::function<void(tcp::socket&)> refuse) {
  for (;;) {
    Future<Accepted> accepting = accept_one(executor, acceptor);
    Accepted accepted = co_await accepting;
    if (accepted.ec == boost::asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (accepted.ec) {
      if (out_of_descriptors(accepted.ec)) shed_waiting(acceptor, spare, refuse);
      Sleep pausing = sleep(executor, kAcceptRetryDelay);
      co_await pausing;
      continue;
    }
    take(std::move(accepted.socket));
    for (std::size_t i = 0; i < batch; ++i) {
      tcp::socket next(acceptor.get_executor());
      boost::system::error_code ec;
      acceptor.accept(next, ec);  // non-blocking: would_block when none waits
      if (ec) {
        if (out_of_descriptors(ec)) shed_waiting(acceptor, spare, refuse);
        break;
      }
      take(std::move(next));
    }
  }
}

std::string client_address_key(const boost::asio::ip::address& address) {
  namespace ip = boost::asio::ip;
  if (!address.is_v6()) return address.to_string();
  const ip::address_v6 v6 = address.to_v6();
  if (v6.is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, v6).to_string();
  ip::address_v6::bytes_type bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), static_cast<unsigned char>(0));
  return ip::address_v6(bytes).to_string() + "/64";
}

void SpareDescriptor::take() {
  if (fd_ < 0) fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void SpareDescriptor::give_up() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool out_of_descriptors(const boost::system::error_code& ec) {
  return ec == boost::system::errc::too_many_files_open ||
         ec == boost::system::errc::too_many_files_open_in_system;
}

std::uint64_t descriptor_limit() {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 0;
  return limit.rlim_cur;
}

}  // namespace reliant
