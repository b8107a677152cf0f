// The model catalogue: the models one process can call — each with its provider, its tags, its
// limits and its prices — and how a node's `model:` picks one. Read from a YAML file
// (`--models FILE`):
//
//   default: sonnet                  # the model a node that names none gets
//   providers:
//     claude: {kind: anthropic, api_key_env: ANTHROPIC_API_KEY}
//     local:  {kind: openai, base_url: "http://127.0.0.1:11434/v1", api_key_file: /etc/key}
//   models:
//     - name: sonnet
//       provider: claude
//       api_model: claude-sonnet-4-5    # what the provider calls it (default: name)
//       tags: [moderate, reasoning]
//       context_tokens: 200000
//       output_tokens_max: 64000
//       thinking: true                  # takes extended thinking / reasoning effort
//       prices: {input_per_mtok: 3.0, output_per_mtok: 15.0}   # USD per million tokens
//
// Selection: `model: NAME` (or {name|id: NAME}) is that model; `{tags: [a, b], providers: [p]}`
// scores each model by the tags it has, earlier tags weighing more (a: 2, b: 1 — a model with
// both beats one with a alone, which beats one with b alone), a model with none of them never
// chosen; ties go to the one listed first. Listed providers are preferred: the best match among
// their models, else among all. A model without tags stands in for any tags, after every model
// that has one of them (a deployment of one model). The scripted provider stands in for every
// provider (offline runs of any workflow).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "core/workflow/loader.h"

namespace reliant::agent {

enum class ProviderKind { anthropic, openai, scripted };
std::string_view to_string(ProviderKind kind);

struct ProviderSpec {
  std::string name;
  ProviderKind kind = ProviderKind::scripted;
  std::string base_url;      // empty: the provider's own
  std::string api_key_env;   // the variable holding its key (empty: the kind's usual one)
  std::string api_key_file;  // or a file whose first line is the key
};

struct ModelSpec {
  std::string name;
  std::string provider;   // a ProviderSpec's name
  std::string api_model;  // what the provider calls it
  std::vector<std::string> tags;
  std::int64_t context_tokens = 0;     // 0: unknown
  std::int64_t output_tokens_max = 0;  // 0: unknown
  bool thinking = false;
  double input_usd_per_mtok = 0;
  double output_usd_per_mtok = 0;
};

struct ModelCatalog {
  std::vector<ProviderSpec> providers;
  std::vector<ModelSpec> models;
  std::string default_model;

  const ModelSpec* model(std::string_view name) const;
  const ProviderSpec* provider(std::string_view name) const;
};

inline constexpr std::size_t kModelCatalogBytesMax = 1024 * 1024;
inline constexpr std::size_t kCatalogModelsMax = 500;

// Every mistake at its place in the file (format_all names it), or the catalogue.
tl::expected<ModelCatalog, std::vector<workflow::Diagnostic>> load_model_catalog(
    std::string_view yaml);

// The model a node's `model:` (null, a name, or {name|id, tags, provider|providers}) picks, or
// why none can be: an unknown name, a malformed selector, tags no model has.
tl::expected<ModelSpec, std::string> resolve_model(const ModelCatalog& catalog,
                                                   const nlohmann::json& selector);

// What a call cost, in US dollars, at the model's prices.
double call_cost_usd(const ModelSpec& model, std::int64_t input_tokens, std::int64_t output_tokens);

// Extended thinking: the token budget a thinking level buys (none → 0; low 2,048, medium 8,192,
// high 16,384, xhigh 32,768), and OpenAI's reasoning effort for it ("" for none).
std::int64_t thinking_budget_tokens(std::string_view level);
std::string_view reasoning_effort(std::string_view level);

}  // namespace reliant::agent
