// tcp_bytes_received() (accepting.h), apart from the rest: <linux/tcp.h>, which has the
// counter, cannot share a translation unit with <netinet/tcp.h>, which Asio includes.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

#include <linux/tcp.h>

namespace reliant {

std::uint64_t tcp_bytes_received(int fd) {
  struct tcp_info info {};
  socklen_t length = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return 0;
  // An older kernel fills less of the structure.
  if (length < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received) {
    return 0;
  }
  return info.tcpi_bytes_received;
}

}  // namespace reliant
