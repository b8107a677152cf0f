// The migrated schema's image, built once per process in a world of its own.
#include "sim/schema_image.h"

#include "runtime/scope.h"
#include "services/storage/migrator.h"

namespace reliant::sim {
namespace {

Task<void> migrate(Store& store, Instant now, bool* done) {
  Task<Result<std::vector<std::int64_t>>> pending = migrate_up(store, now);
  Result<std::vector<std::int64_t>> applied = co_await pending;
  RELIANT_ASSERT_MSG(applied.has_value(), "migrating the simulator's database failed");
  *done = true;
}

std::string build_image() {
  World world(0, /*trace_events=*/false);
  Network network(milliseconds(0), milliseconds(0));
  SimDatabase database(world, network);
  migrate_in_world(world, database);
  auto image = database.database().image();
  RELIANT_ASSERT_MSG(image.has_value(), "cannot copy the simulator's migrated database");
  return std::move(*image);
}

}  // namespace

void migrate_in_world(World& world, SimDatabase& database) {
  // The world's own executor: the migration belongs to no process of the topology.
  SimExecutor setup(world, kWorldNode);
  SimStore store(database, setup);
  bool migrated = false;
  {
    Scope scope(setup);
    scope.spawn(migrate(store, world.now(), &migrated));
    while (!migrated && world.step()) {
    }
  }
  RELIANT_ASSERT(migrated);
}

const std::string& migrated_schema_image() {
  static const std::string image = build_image();
  return image;
}

}  // namespace reliant::sim
