// Version and build details, stamped at configure time.
#include "app/version.h"

namespace reliant {

std::string version_string() {
  return std::string("reliant ") + RELIANT_VERSION + " (" + RELIANT_BUILD_TYPE + ", " +
         __VERSION__ + ")";
}

}  // namespace reliant
