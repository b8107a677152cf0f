// The schema every simulated database starts from: one empty database migrated once per
// process, whose image each seed's database is a copy of.
#pragma once

#include <string>

#include "sim/sim_store.h"

namespace reliant::sim {

// Migrates `database` to the latest schema through the migrator the binaries use, in virtual
// time (stepping `world` until it is done); aborts when it fails.
void migrate_in_world(World& world, SimDatabase& database);

// The image (SqliteDatabase::image) of an empty database after migrate_in_world. Built on
// first use and kept for the process, so a sweep builds it before it forks its seeds and they
// share it: migrating an empty database (21 migrations, each ALTER TABLE parsing the whole
// schema again) was a fifth of an idle seed's time. Thread-safe.
const std::string& migrated_schema_image();

}  // namespace reliant::sim
