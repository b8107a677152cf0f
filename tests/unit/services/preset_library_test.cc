// PresetLibrary: the built-ins under a user's and a project's presets, each name taken by the
// most specific, listed once in name order; a stored preset that no longer loads leaves the
// built-in of its name in force.
#include "services/storage/preset_library.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/workflow/builtin_presets.h"

namespace reliant {
namespace {

PresetRecord stored(std::string name, std::string project_id, std::string description) {
  PresetRecord record;
  record.name = name;
  record.project_id = std::move(project_id);
  record.source = "name: " + name + "\ndescription: " + description + "\n";
  record.updated_at_ms = 7;
  return record;
}

std::vector<std::string> names(const PresetLibrary& library) {
  std::vector<std::string> out;
  for (const PresetInForce* preset : library.all()) out.push_back(preset->preset.name);
  return out;
}

TEST(PresetLibrary, TheBuiltinsAloneAreEveryBuiltinInNameOrder) {
  const PresetLibrary library;
  std::vector<std::string> expected;
  for (const auto& preset : workflow::builtin_presets()) expected.push_back(preset.name);
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(names(library), expected);
  const PresetInForce* general = library.find("general");
  ASSERT_NE(general, nullptr);
  EXPECT_EQ(general->origin, PresetOrigin::builtin);
  EXPECT_FALSE(general->source.empty());
  EXPECT_EQ(library.find("no-such-preset"), nullptr);
}

TEST(PresetLibrary, AProjectsPresetTakesItsNameOverTheUsersAndTheUsersOverABuiltin) {
  const auto library = PresetLibrary::of(
      {stored("general", "", "the user's general"), stored("aaa-first", "", "the user's own"),
       stored("zzz-last", "", "the user's own"), stored("zzz-last", "p1", "the project's"),
       stored("debug", "p1", "the project's debug")});
  const PresetInForce* general = library.find("general");
  ASSERT_NE(general, nullptr);
  EXPECT_EQ(general->origin, PresetOrigin::user);
  EXPECT_EQ(general->preset.description, "the user's general");
  EXPECT_EQ(library.find("zzz-last")->preset.description, "the project's");
  EXPECT_EQ(library.find("zzz-last")->origin, PresetOrigin::project);
  EXPECT_EQ(library.find("debug")->origin, PresetOrigin::project);

  // Each name once, in name order, the stored ones among the built-ins.
  std::vector<std::string> expected{"aaa-first", "zzz-last"};
  for (const auto& preset : workflow::builtin_presets()) expected.push_back(preset.name);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(names(library), expected);
  for (const PresetInForce* preset : library.all()) {
    if (preset->preset.name == "general") {
      EXPECT_EQ(preset->origin, PresetOrigin::user);
    }
    if (preset->preset.name == "architect") {
      EXPECT_EQ(preset->origin, PresetOrigin::builtin);
    }
  }
  // Another library still sees the built-in: nothing stored changes the shared built-ins.
  EXPECT_EQ(PresetLibrary().find("general")->origin, PresetOrigin::builtin);
}

TEST(PresetLibrary, AStoredPresetThatNoLongerLoadsLeavesTheBuiltinInForce) {
  PresetRecord broken = stored("general", "", "x");
  broken.source = "name: general\nparams: [not, a, map]\n";
  PresetRecord broken_own = stored("mine", "", "x");
  broken_own.source = "name: [";
  const auto library = PresetLibrary::of({broken, broken_own});
  ASSERT_NE(library.find("general"), nullptr);
  EXPECT_EQ(library.find("general")->origin, PresetOrigin::builtin);
  EXPECT_EQ(library.find("mine"), nullptr);
  const auto listed = names(library);
  EXPECT_EQ(std::count(listed.begin(), listed.end(), "general"), 1);
  EXPECT_EQ(std::count(listed.begin(), listed.end(), "mine"), 0);
}

}  // namespace
}  // namespace reliant
