// SimLog: lines into the world's log book and trace.
#include "sim/sim_log.h"

#include "base/digest.h"

namespace reliant::sim {

bool SimLog::enabled(LogLevel level) const { return level >= world_.log_book().level; }

void SimLog::write(LogLevel level, std::string_view message) {
  if (!enabled(level)) return;
  world_.trace().record(world_.now(), node_, "log", digest64(message));
  world_.log_book().add("t=" + format_duration(world_.now() - kSimEpoch) + " " +
                        world_.node_name(node_) + " " + std::string(to_string(level)) + ": " +
                        std::string(message));
}

}  // namespace reliant::sim
