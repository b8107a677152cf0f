// The tag that tells one daemon start's ids apart from another's (terminals, background
// processes), so an id from before a restart is never handed out again.
#pragma once

#include <string>

#include "base/time.h"

namespace reliant::daemon {

// When this set of ids began, in milliseconds written in base 36 ("mi2k3f0a"): a daemon that
// restarted hands out other ids, so a client holding one from before is told it is gone instead
// of reaching a newer terminal or process that happens to have its number.
std::string instance_tag(Instant now);

}  // namespace reliant::daemon
