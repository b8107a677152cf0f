// Reading the model catalogue and picking a model from it (see the header).
#include "core/agent/model_catalog.h"

#include <algorithm>
#include <array>
#include <set>

#include "base/assert.h"
#include "base/utf8.h"
#include "core/workflow/bounded_yaml.h"
#include "core/workflow/yaml_values.h"

namespace reliant::agent {
namespace {

using workflow::child;
using workflow::Diagnostic;
using workflow::mark_of;

constexpr std::array<std::pair<std::string_view, ProviderKind>, 3> kKinds = {
    {{"anthropic", ProviderKind::anthropic},
     {"openai", ProviderKind::openai},
     {"scripted", ProviderKind::scripted}}};

class CatalogReader {
 public:
  std::vector<Diagnostic> errors;

  void error(const YAML::Node& at, std::string message) {
    errors.push_back({mark_of(at), std::move(message)});
  }

  void check_keys(const YAML::Node& map, const std::set<std::string, std::less<>>& known,
                  const std::string& what) {
    for (const auto& entry : map) {
      if (known.contains(entry.first.Scalar())) continue;
      std::string all;
      for (const auto& k : known) all += (all.empty() ? "" : ", ") + k;
      error(entry.first,
            "unknown key \"" + entry.first.Scalar() + "\" in " + what + " (expected " + all + ")");
    }
  }

  std::string text(const YAML::Node& map, std::string_view key, const std::string& what) {
    const YAML::Node node = child(map, key);
    if (!node) return {};
    if (!node.IsScalar()) {
      error(node, what + "." + std::string(key) + " must be a string");
      return {};
    }
    return node.Scalar();
  }

  double number(const YAML::Node& map, std::string_view key, const std::string& what) {
    const YAML::Node node = child(map, key);
    if (!node) return 0;
    const auto value = node.IsScalar() ? workflow::as_double(workflow::scalar_value(node))
                                       : std::optional<double>();
    if (!value || *value < 0) {
      error(node, what + "." + std::string(key) + " must be a number, 0 or more");
      return 0;
    }
    return *value;
  }

  ProviderSpec provider_at(const std::string& name, const YAML::Node& body) {
    ProviderSpec spec;
    spec.name = name;
    const std::string what = "provider \"" + name + "\"";
    if (!body.IsMap()) {
      error(body, what + " must be a map with a kind");
      return spec;
    }
    check_keys(body, {"kind", "base_url", "api_key_env", "api_key_file"}, what);
    const std::string kind = text(body, "kind", what);
    const auto known =
        std::find_if(kKinds.begin(), kKinds.end(), [&](const auto& k) { return k.first == kind; });
    if (known == kKinds.end()) {
      error(child(body, "kind") ? child(body, "kind") : body,
            what + ": kind must be anthropic, openai or scripted");
    } else {
      spec.kind = known->second;
    }
    spec.base_url = text(body, "base_url", what);
    spec.api_key_env = text(body, "api_key_env", what);
    spec.api_key_file = text(body, "api_key_file", what);
    if (!spec.api_key_env.empty() && !spec.api_key_file.empty())
      error(body, what + ": give api_key_env or api_key_file, not both");
    return spec;
  }

  ModelSpec model_at(const YAML::Node& body, const ModelCatalog& catalog) {
    ModelSpec spec;
    if (!body.IsMap()) {
      error(body, "a model must be a map with a name and a provider");
      return spec;
    }
    spec.name = text(body, "name", "a model");
    const std::string what = "model \"" + spec.name + "\"";
    check_keys(body,
               {"name", "provider", "api_model", "tags", "context_tokens", "output_tokens_max",
                "thinking", "prices"},
               what);
    if (spec.name.empty()) error(body, "a model needs a name");
    spec.provider = text(body, "provider", what);
    if (catalog.provider(spec.provider) == nullptr) {
      error(child(body, "provider") ? child(body, "provider") : body,
            what + ": provider \"" + spec.provider + "\" is not among the providers");
    }
    spec.api_model = text(body, "api_model", what);
    if (spec.api_model.empty()) spec.api_model = spec.name;
    if (const YAML::Node tags = child(body, "tags")) {
      if (!tags.IsSequence()) error(tags, what + ".tags must be a list");
      for (const auto& tag : tags) {
        if (!tag.IsScalar() || tag.Scalar().empty()) {
          error(tag, what + ": a tag is a name");
        } else {
          spec.tags.push_back(tag.Scalar());
        }
      }
    }
    spec.context_tokens = static_cast<std::int64_t>(number(body, "context_tokens", what));
    spec.output_tokens_max = static_cast<std::int64_t>(number(body, "output_tokens_max", what));
    if (const YAML::Node thinking = child(body, "thinking")) {
      const auto value = thinking.IsScalar() ? workflow::scalar_value(thinking) : cel::Value();
      if (!value.is<bool>()) error(thinking, what + ".thinking must be true or false");
      spec.thinking = value == cel::Value(true);
    }
    if (const YAML::Node prices = child(body, "prices")) {
      if (!prices.IsMap()) {
        error(prices, what + ".prices must be {input_per_mtok, output_per_mtok}");
      } else {
        check_keys(prices, {"input_per_mtok", "output_per_mtok"}, what + ".prices");
        spec.input_usd_per_mtok = number(prices, "input_per_mtok", what + ".prices");
        spec.output_usd_per_mtok = number(prices, "output_per_mtok", what + ".prices");
      }
    }
    return spec;
  }

  ModelCatalog catalog_at(const YAML::Node& root) {
    ModelCatalog catalog;
    check_keys(root, {"default", "providers", "models"}, "the catalogue");
    if (const YAML::Node providers = child(root, "providers"); !providers || !providers.IsMap()) {
      error(providers ? providers : root, "providers must be a map of name to provider");
    } else {
      for (const auto& entry : providers)
        catalog.providers.push_back(provider_at(entry.first.Scalar(), entry.second));
    }
    const YAML::Node models = child(root, "models");
    if (!models || !models.IsSequence() || models.size() == 0) {
      error(models ? models : root, "models must be a list of at least one model");
    } else if (models.size() > kCatalogModelsMax) {
      error(models, "at most " + std::to_string(kCatalogModelsMax) + " models");
    } else {
      std::set<std::string, std::less<>> names;
      for (const auto& body : models) {
        ModelSpec spec = model_at(body, catalog);
        if (!spec.name.empty() && !names.insert(spec.name).second)
          error(body, "model \"" + spec.name + "\" is listed twice");
        catalog.models.push_back(std::move(spec));
      }
    }
    catalog.default_model = text(root, "default", "the catalogue");
    if (catalog.default_model.empty() && !catalog.models.empty())
      catalog.default_model = catalog.models.front().name;
    if (!catalog.models.empty() && catalog.model(catalog.default_model) == nullptr)
      error(child(root, "default"), "default \"" + catalog.default_model + "\" is not a model");
    return catalog;
  }
};

// A selector's list field (`tags`, `providers`) as strings; `provider` adds one.
tl::expected<std::vector<std::string>, std::string> names_of(const nlohmann::json& selector,
                                                             const char* field) {
  std::vector<std::string> out;
  const auto it = selector.find(field);
  if (it == selector.end() || it->is_null()) return out;
  if (!it->is_array()) return tl::unexpected(std::string("model.") + field + " must be a list");
  for (const auto& entry : *it) {
    if (!entry.is_string())
      return tl::unexpected(std::string("model.") + field + " holds " + entry.dump());
    out.push_back(entry.get<std::string>());
  }
  return out;
}

std::string described(const ModelCatalog& catalog) {
  std::string out;
  for (const auto& model : catalog.models) {
    std::string tags;
    for (const auto& tag : model.tags) tags += (tags.empty() ? "" : ", ") + tag;
    out += (out.empty() ? "" : "; ") + model.name + " [" + tags + "]";
  }
  return out;
}

}  // namespace

std::string_view to_string(ProviderKind kind) {
  for (const auto& [name, each] : kKinds) {
    if (each == kind) return name;
  }
  return "scripted";
}

const ModelSpec* ModelCatalog::model(std::string_view name) const {
  for (const auto& each : models) {
    if (each.name == name) return &each;
  }
  return nullptr;
}

const ProviderSpec* ModelCatalog::provider(std::string_view name) const {
  for (const auto& each : providers) {
    if (each.name == name) return &each;
  }
  return nullptr;
}

tl::expected<ModelCatalog, std::vector<Diagnostic>> load_model_catalog(std::string_view yaml) {
  using Errors = std::vector<Diagnostic>;
  if (yaml.size() > kModelCatalogBytesMax) {
    return tl::unexpected(Errors{
        {{}, "the file is larger than " + std::to_string(kModelCatalogBytesMax) + " bytes"}});
  }
  if (!is_valid_utf8(yaml)) return tl::unexpected(Errors{{{}, "the file is not valid UTF-8"}});
  auto loaded = workflow::load_yaml(yaml);
  if (!loaded) return tl::unexpected(Errors{std::move(loaded.error())});
  if (!loaded->IsMap()) return tl::unexpected(Errors{{mark_of(*loaded), "a catalogue is a map"}});
  CatalogReader reader;
  ModelCatalog catalog;
  try {
    catalog = reader.catalog_at(*loaded);
  } catch (const YAML::Exception& e) {
    reader.errors.push_back({workflow::Mark{e.mark.line + 1, e.mark.column + 1}, "YAML: " + e.msg});
  }
  if (!reader.errors.empty()) return tl::unexpected(std::move(reader.errors));
  return catalog;
}

tl::expected<ModelSpec, std::string> resolve_model(const ModelCatalog& catalog,
                                                   const nlohmann::json& selector) {
  RELIANT_ASSERT(!catalog.models.empty());
  std::string name;
  if (selector.is_string()) {
    name = selector.get<std::string>();
  } else if (selector.is_object()) {
    for (const char* key : {"name", "id"}) {
      if (const auto it = selector.find(key); it != selector.end() && it->is_string())
        name = name.empty() ? it->get<std::string>() : name;
    }
  } else if (!selector.is_null()) {
    return tl::unexpected("model is a name or {name, tags, providers}, not " + selector.dump());
  }
  auto tags = selector.is_object() ? names_of(selector, "tags") : std::vector<std::string>();
  if (!tags) return tl::unexpected(tags.error());
  auto providers =
      selector.is_object() ? names_of(selector, "providers") : std::vector<std::string>();
  if (!providers) return tl::unexpected(providers.error());
  if (selector.is_object() && selector.contains("provider") && selector["provider"].is_string())
    providers->push_back(selector["provider"].get<std::string>());

  if (!name.empty()) {
    if (const ModelSpec* found = catalog.model(name)) return *found;
    return tl::unexpected("no model named \"" + name + "\" (models: " + described(catalog) + ")");
  }
  if (tags->empty()) return *catalog.model(catalog.default_model);

  // Scores: tag i of n weighs 2^(n-1-i); a model without tags scores below every match.
  auto score = [&](const ModelSpec& model) -> double {
    if (model.tags.empty()) return 0.5;
    double total = 0;
    for (std::size_t i = 0; i < tags->size(); ++i) {
      if (std::find(model.tags.begin(), model.tags.end(), (*tags)[i]) != model.tags.end())
        total += static_cast<double>(1ULL << std::min<std::size_t>(tags->size() - 1 - i, 52));
    }
    return total;
  };
  auto preferred = [&](const ModelSpec& model) {
    if (providers->empty()) return true;
    const ProviderSpec* provider = catalog.provider(model.provider);
    if (provider == nullptr) return false;
    return provider->kind == ProviderKind::scripted ||
           std::find(providers->begin(), providers->end(), provider->name) != providers->end() ||
           std::find(providers->begin(), providers->end(),
                     std::string(to_string(provider->kind))) != providers->end();
  };
  for (const bool among_preferred : {true, false}) {
    const ModelSpec* best = nullptr;
    double best_score = 0;
    for (const auto& model : catalog.models) {
      if (among_preferred && !preferred(model)) continue;
      if (const double s = score(model); s > best_score) {
        best = &model;
        best_score = s;
      }
    }
    if (best != nullptr) return *best;
  }
  std::string asked;
  for (const auto& tag : *tags) asked += (asked.empty() ? "" : ", ") + tag;
  return tl::unexpected("no model has any of the tags [" + asked +
                        "] (models: " + described(catalog) + ")");
}

double call_cost_usd(const ModelSpec& model, std::int64_t input_tokens,
                     std::int64_t output_tokens) {
  return (static_cast<double>(input_tokens) * model.input_usd_per_mtok +
          static_cast<double>(output_tokens) * model.output_usd_per_mtok) /
         1e6;
}

std::int64_t thinking_budget_tokens(std::string_view level) {
  if (level == "low") return 2048;
  if (level == "medium") return 8192;
  if (level == "high") return 16384;
  if (level == "xhigh") return 32768;
  return 0;
}

std::string_view reasoning_effort(std::string_view level) {
  if (level == "low" || level == "medium" || level == "high") return level;
  if (level == "xhigh") return "high";
  return "";
}

}  // namespace reliant::agent
