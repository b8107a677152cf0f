// What the accept loops of the HTTP port and the gRPC ports share: how they count a client's
// connections (its address), and what they need when the process runs out of file descriptors —
// one spare kept back to turn waiting clients away with, and the test for the errors that mean it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "adapters/asio/asio.h"
#include "runtime/executor.h"
#include "runtime/task.h"

namespace reliant {

// One descriptor held back for the moment the process runs out of them: a listener lets go of
// it to accept a waiting client and close it at once (so the client hears "no" rather than
// waiting in the backlog), then takes it back.
class SpareDescriptor {
 public:
  SpareDescriptor() { take(); }
  ~SpareDescriptor() { give_up(); }
  SpareDescriptor(const SpareDescriptor&) = delete;
  SpareDescriptor& operator=(const SpareDescriptor&) = delete;

  // Opens it again unless it is held (it fails while the process is out of descriptors).
  void take();
  void give_up();

 private:
  int fd_ = -1;
};

// EMFILE or ENFILE: accepting fails until a descriptor frees up, so retry later, not at once.
bool out_of_descriptors(const boost::system::error_code& ec);

// The address a client's connections count against: an IPv4 address (also one reaching an
// IPv6 socket as a mapped address), or an IPv6 client's /64, which one host or site usually
// holds whole.
std::string client_address_key(const boost::asio::ip::address& address);

// Bytes a TCP socket has received since it was opened (TCP_INFO), whoever read them since;
// 0 when unknown. For a connection whose reads another library makes (gRPC's).
std::uint64_t tcp_bytes_received(int fd);

// Accepts on `acceptor` (listening, non-blocking) until it is closed, handing each connection
// to `take`: the one that woke the loop, then up to `batch` more that wait, in the same turn —
// under a flood of connections the backlog must not fill up, or the kernel drops a client's SYN
// and it waits a second to send another. Failures never stop it: out of descriptors (EMFILE,
// ENFILE) it lets go of `spare` to accept waiting clients and hand them to `refuse` (then closed),
// so that they hear "no" rather than wait in the backlog, and tries again 50 ms later.
Task<void> accept_connections(Executor& executor, boost::asio::ip::tcp::acceptor& acceptor,
                              SpareDescriptor& spare, std::size_t batch,
                              std::function<void(boost::asio::ip::tcp::socket)> take,
                              std::function<void(boost::asio::ip::tcp::socket&)> refuse);

// The process's descriptor limit (RLIMIT_NOFILE's soft limit); 0 when unlimited or unknown.
std::uint64_t descriptor_limit();

}  // namespace reliant
