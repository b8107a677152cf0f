// The presets one user sees in one project: the built-ins, the user's own, and the project's,
// each name taken by the most specific — the project's, else the user's, else the built-in —
// as .reliant/presets/ overrides a built-in of the same name.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/workflow/preset.h"
#include "core/workflow/preset_inputs.h"
#include "runtime/store.h"
#include "services/storage/presets.h"

namespace reliant {

enum class PresetOrigin { builtin, user, project };
std::string_view to_string(PresetOrigin origin);

struct PresetInForce {
  workflow::Preset preset;
  PresetOrigin origin = PresetOrigin::builtin;
  std::string source;  // its YAML
  std::int64_t updated_at_ms = 0;
};

class PresetLibrary {
 public:
  // The built-ins alone.
  PresetLibrary();
  // The built-ins under the user's and the project's (none when `project_id` is empty). A stored
  // preset is parsed when it is first looked up — a run's start names a few of hundreds — and
  // one that no longer loads (stored by an older version) is left out.
  static Result<PresetLibrary> load(SqlTransaction& tx, const std::string& user_id,
                                    const std::string& project_id);
  // The same from stored presets read already (list_presets' order: the user's and one
  // project's, by name).
  static PresetLibrary of(const std::vector<PresetRecord>& stored);

  // Pointers stay valid while this library lives.
  const PresetInForce* find(std::string_view name) const;
  // Each name once, in name order.
  std::vector<const PresetInForce*> all() const;
  // find() as preset_inputs.h takes it; valid while this library lives.
  workflow::FindPreset finder() const;

 private:
  // Stored presets not yet looked up, the one in force for each name (the project's over the
  // user's); find() moves each into `loaded_`, which takes a name over a built-in's. The
  // built-ins themselves are parsed once for the process and shared, not copied: a message's
  // run start builds a library, and copying every built-in's params and YAML cost more than the
  // rest of the lookup.
  mutable std::map<std::string, PresetRecord, std::less<>> unparsed_;
  mutable std::map<std::string, PresetInForce, std::less<>> loaded_;
};

// {name, description, tag, origin, params, updated_at_ms}; with `source` when asked.
nlohmann::json to_json(const PresetInForce& preset, bool with_source);

}  // namespace reliant
