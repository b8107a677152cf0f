// The model catalogue: its file with mistakes at line and column, selection by name and by
// weighted tags with preferred providers, the cost of a call and thinking budgets.
#include <gtest/gtest.h>

#include <string>

#include "core/agent/model_catalog.h"

namespace reliant::agent {
namespace {

using Json = nlohmann::json;

constexpr const char* kCatalog = R"(default: mid
providers:
  claude: {kind: anthropic, api_key_env: ANTHROPIC_API_KEY}
  gpt: {kind: openai, base_url: "http://127.0.0.1:9/v1"}
models:
  - name: big
    provider: claude
    api_model: claude-big-2
    tags: [flagship, reasoning]
    thinking: true
    prices: {input_per_mtok: 15, output_per_mtok: 75}
  - name: mid
    provider: claude
    tags: [moderate, reasoning]
  - name: small
    provider: gpt
    tags: [fast, cheap]
    prices: {input_per_mtok: 0.5, output_per_mtok: 1.5}
  - name: quick
    provider: gpt
    tags: [fast]
)";

ModelCatalog catalog() {
  auto loaded = load_model_catalog(kCatalog);
  EXPECT_TRUE(loaded) << workflow::format_all("m.yaml", loaded.error());
  return *loaded;
}

std::string picked(const Json& selector) {
  auto model = resolve_model(catalog(), selector);
  return model ? model->name : "error: " + model.error();
}

TEST(ModelCatalog, LoadsProvidersModelsAndTheDefault) {
  const ModelCatalog c = catalog();
  ASSERT_EQ(c.models.size(), 4u);
  EXPECT_EQ(c.default_model, "mid");
  EXPECT_EQ(c.model("big")->api_model, "claude-big-2");
  EXPECT_EQ(c.model("mid")->api_model, "mid");
  EXPECT_EQ(c.provider("gpt")->kind, ProviderKind::openai);
  EXPECT_TRUE(c.model("big")->thinking);
}

TEST(ModelCatalog, PicksByNameAndByWeightedTags) {
  EXPECT_EQ(picked(nullptr), "mid");
  EXPECT_EQ(picked(""), "mid");  // no name: the default
  EXPECT_EQ(picked("small"), "small");
  EXPECT_EQ(picked(Json{{"id", "big"}}), "big");
  EXPECT_EQ(picked(Json{{"tags", {"flagship"}}}), "big");
  // Both tags beat the first alone, which beats the second alone.
  EXPECT_EQ(picked(Json{{"tags", {"fast", "cheap"}}}), "small");
  EXPECT_EQ(picked(Json{{"tags", {"cheap", "fast"}}}), "small");
  EXPECT_EQ(picked(Json{{"tags", {"fast", "reasoning"}}}),
            "small");  // fast weighs more; first listed
  EXPECT_EQ(picked(Json{{"tags", {"reasoning", "fast"}}}), "big");
  // Listed providers are preferred, not required.
  EXPECT_EQ(picked(Json{{"tags", {"reasoning"}}, {"providers", {"gpt"}}}), "big");
  EXPECT_EQ(picked(Json{{"tags", {"fast"}}, {"provider", "openai"}}), "small");
  EXPECT_EQ(picked(Json{{"tags", {"moderate", "fast"}}, {"providers", {"gpt"}}}), "small");
}

TEST(ModelCatalog, RefusesWhatItCannotPick) {
  EXPECT_EQ(picked("giant"),
            "error: no model named \"giant\" (models: big [flagship, reasoning]; mid [moderate, "
            "reasoning]; small [fast, cheap]; quick [fast])");
  EXPECT_EQ(picked(Json{{"tags", {"local"}}}).substr(0, 45),
            "error: no model has any of the tags [local] (");
  EXPECT_EQ(picked(Json{{"tags", "fast"}}), "error: model.tags must be a list");
  EXPECT_EQ(picked(7), "error: model is a name or {name, tags, providers}, not 7");
}

TEST(ModelCatalog, AModelWithoutTagsStandsInForAny) {
  auto loaded = load_model_catalog(
      "providers: {p: {kind: scripted}}\nmodels:\n  - {name: only, provider: p}\n"
      "  - {name: fast-one, provider: p, tags: [fast]}\n");
  ASSERT_TRUE(loaded) << workflow::format_all("m.yaml", loaded.error());
  EXPECT_EQ(resolve_model(*loaded, Json{{"tags", {"flagship"}}})->name, "only");
  EXPECT_EQ(resolve_model(*loaded, Json{{"tags", {"fast"}}})->name, "fast-one");
}

TEST(ModelCatalog, ReportsEachMistakeWhereItIs) {
  auto errors = [](const std::string& yaml) {
    auto loaded = load_model_catalog(yaml);
    return loaded ? std::string("ok") : workflow::format_all("m.yaml", loaded.error());
  };
  EXPECT_EQ(errors("providers: {p: {kind: bard}}\nmodels: [{name: a, provider: p}]\n"),
            "m.yaml:1:23: provider \"p\": kind must be anthropic, openai or scripted");
  EXPECT_EQ(errors("providers: {p: {kind: scripted}}\nmodels: [{name: a, provider: q}]\n"),
            "m.yaml:2:30: model \"a\": provider \"q\" is not among the providers");
  EXPECT_EQ(errors("providers: {p: {kind: scripted}}\nmodels:\n  - {name: a, provider: p}\n"
                   "  - {name: a, provider: p}\n"),
            "m.yaml:4:5: model \"a\" is listed twice");
  EXPECT_EQ(errors("providers: {p: {kind: scripted}}\nmodels:\n"
                   "  - {name: a, provider: p, prices: {input_per_mtok: -1}}\n"),
            "m.yaml:3:53: model \"a\".prices.input_per_mtok must be a number, 0 or more");
  EXPECT_EQ(errors("providers: {p: {kind: scripted}}\nmodels: [{name: a, provider: p, size: 3}]\n"),
            "m.yaml:2:33: unknown key \"size\" in model \"a\" (expected api_model, "
            "context_tokens, name, output_tokens_max, prices, provider, tags, thinking)");
  EXPECT_EQ(
      errors("default: z\nproviders: {p: {kind: scripted}}\nmodels: [{name: a, provider: p}]\n"),
      "m.yaml:1:10: default \"z\" is not a model");
  EXPECT_EQ(errors("providers: {}\nmodels: []\n"),
            "m.yaml:2:9: models must be a list of at least one model");
}

TEST(ModelCatalog, CostsAndThinking) {
  const ModelCatalog c = catalog();
  EXPECT_DOUBLE_EQ(call_cost_usd(*c.model("big"), 1000, 500), (1000 * 15.0 + 500 * 75.0) / 1e6);
  EXPECT_DOUBLE_EQ(call_cost_usd(*c.model("mid"), 1000, 500), 0.0);  // no prices, no cost
  EXPECT_EQ(thinking_budget_tokens("none"), 0);
  EXPECT_EQ(thinking_budget_tokens("low"), 2048);
  EXPECT_EQ(thinking_budget_tokens("high"), 16384);
  EXPECT_EQ(reasoning_effort("xhigh"), "high");
  EXPECT_EQ(reasoning_effort(""), "");
}

}  // namespace
}  // namespace reliant::agent
