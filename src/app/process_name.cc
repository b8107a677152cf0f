// A replica's default name from gethostname(2) and getpid(2).
#include "app/process_name.h"

#include <unistd.h>

namespace reliant {

std::string host_and_pid() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(::getpid());
}

}  // namespace reliant
