// Small tasks the unit tests spawn and read back: a schema migration and a stream's next frame.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"
#include "runtime/store.h"
#include "runtime/task.h"
#include "runtime/transport.h"
#include "services/storage/migrator.h"

namespace reliant {

// Brings `store` to the current schema; sets *done once it has.
inline Task<void> migrate(Store* store, Instant now, bool* done) {
  Task<Result<std::vector<std::int64_t>>> pending = migrate_up(*store, now);
  Result<std::vector<std::int64_t>> applied = co_await pending;
  EXPECT_TRUE(applied.has_value());
  *done = true;
}

// The stream's next frame, or how it ended.
inline Task<void> receive_into(Stream* stream, std::optional<Result<std::string>>* out) {
  Task<Result<std::string>> next = stream->receive();
  *out = co_await next;
}

}  // namespace reliant
