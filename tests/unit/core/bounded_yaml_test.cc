// YAML within a budget: nested aliases (a "billion laughs" of a few hundred bytes), an alias
// inside its own anchor and deep nesting are refused at the alias or node that runs over, with
// its line and column, in time linear in the text; ordinary aliases and large plain files load.
#include "core/workflow/bounded_yaml.h"

#include <gtest/gtest.h>

#include <string>

#include "core/workflow/loader.h"

namespace reliant::workflow {
namespace {

// LEVELS lines, each a list of WIDTH aliases to the line before: WIDTH^LEVELS scalars.
std::string laughs(int levels, int width, const std::string& indent = "") {
  std::string yaml = indent + "l0: &l0 \"xxxxxxxx\"\n";
  for (int i = 1; i <= levels; ++i) {
    yaml += indent + "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int j = 0; j < width; ++j) yaml += (j ? ",*l" : "*l") + std::to_string(i - 1);
    yaml += "]\n";
  }
  return yaml;
}

TEST(BoundedYaml, NestedAliasesAreRefusedWhereTheyRunOver) {
  const std::string yaml = laughs(9, 9);
  ASSERT_LT(yaml.size(), 600u);
  auto checked = check_yaml_budget(yaml);
  ASSERT_FALSE(checked.has_value());
  EXPECT_NE(checked.error().message.find("expands to more than 250000 nodes"), std::string::npos)
      << checked.error().message;
  // 9^6 = 531,441 scalars lie under l6: the first alias of line 7 runs over.
  EXPECT_EQ(checked.error().mark.line, 7);
  EXPECT_GT(checked.error().mark.column, 1);
}

TEST(BoundedYaml, ScalarBytesCountThroughAliases) {
  // 2,000 aliases of a 10 KiB string: 20 MB expanded, from 16 KiB of text.
  std::string yaml = "big: &big \"" + std::string(10 * 1024, 'x') + "\"\nmany: [";
  for (int i = 0; i < 2'000; ++i) yaml += i ? ",*big" : "*big";
  yaml += "]\n";
  auto checked = check_yaml_budget(yaml);
  ASSERT_FALSE(checked.has_value());
  EXPECT_NE(checked.error().message.find("bytes of scalars"), std::string::npos)
      << checked.error().message;
  EXPECT_EQ(checked.error().mark.line, 2);
}

TEST(BoundedYaml, AnAliasInsideItsOwnAnchorIsACycle) {
  for (const std::string yaml : {"a: &x [*x]\n", "a: &x {b: {c: *x}}\n"}) {
    auto loaded = load_yaml(yaml);
    ASSERT_FALSE(loaded.has_value()) << yaml;
    EXPECT_NE(loaded.error().message.find("cycle"), std::string::npos) << loaded.error().message;
    EXPECT_EQ(loaded.error().mark.line, 1);
  }
}

TEST(BoundedYaml, DeepNestingIsRefused) {
  const std::string yaml = std::string(100, '[') + std::string(100, ']');
  auto checked = check_yaml_budget(yaml);
  ASSERT_FALSE(checked.has_value());
  EXPECT_NE(checked.error().message.find("nested more than 64"), std::string::npos);
  EXPECT_EQ(checked.error().mark.line, 1);
  EXPECT_EQ(checked.error().mark.column, 65);
}

TEST(BoundedYaml, OrdinaryAliasesAndLargePlainFilesLoad) {
  auto loaded = load_yaml("base: &b {model: x, tags: [a, b]}\none: *b\ntwo: *b\n");
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_EQ((*loaded)["two"]["tags"][1].as<std::string>(), "b");
  // Below the budget: 9^5 = 59,049 scalars.
  EXPECT_TRUE(check_yaml_budget(laughs(5, 9)).has_value());
  std::string plain = "items:\n";
  for (int i = 0; i < 50'000; ++i) plain += "  - item " + std::to_string(i) + "\n";
  EXPECT_TRUE(check_yaml_budget(plain).has_value());
  // Documents are counted together, and anchors are each document's own.
  auto all = load_all_yaml("a: &x 1\n---\nb: &x [2]\nc: *x\n");
  ASSERT_TRUE(all.has_value()) << all.error().message;
  EXPECT_EQ((*all)[1]["c"][0].as<int>(), 2);
}

TEST(BoundedYaml, SyntaxErrorsKeepTheirPlace) {
  auto loaded = load_yaml("a: [1, 2\nb: *undefined\n");
  ASSERT_FALSE(loaded.has_value());
  EXPECT_TRUE(loaded.error().message.starts_with("YAML: ")) << loaded.error().message;
  EXPECT_GT(loaded.error().mark.line, 0);
}

// Each place the bomb went in, through the workflow loader: a located error, at once.
TEST(BoundedYaml, TheWorkflowLoaderRefusesBombsInPresetsUiAndArgs) {
  const std::string bombs[] = {
      "name: w\npresets:\n" + laughs(9, 9, "  ") + "nodes:\n  a: {run: {command: ls}}\n",
      "name: w\nui:\n" + laughs(9, 9, "  ") + "nodes:\n  a: {run: {command: ls}}\n",
      "name: w\nnodes:\n  a:\n    run: {command: ls}\n    args:\n" + laughs(9, 9, "      "),
  };
  for (const auto& yaml : bombs) {
    auto loaded = load_workflow(yaml, "bomb.yaml");
    ASSERT_FALSE(loaded.has_value());
    ASSERT_EQ(loaded.error().size(), 1u);
    const std::string shown = format("bomb.yaml", loaded.error()[0]);
    EXPECT_TRUE(shown.starts_with("bomb.yaml:")) << shown;
    EXPECT_NE(shown.find("expands to more than"), std::string::npos) << shown;
  }
}

}  // namespace
}  // namespace reliant::workflow
