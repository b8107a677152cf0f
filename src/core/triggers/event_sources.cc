// Webhook and workflow-event specs: read from JSON, checked, written back.
#include "core/triggers/event_sources.h"

#include <algorithm>
#include <array>

#include "base/ascii.h"

namespace reliant::triggers {
namespace {

constexpr EnumNames<HmacAlgorithm, 3> kHmacAlgorithmNames = {{{HmacAlgorithm::sha256, "sha256"},
                                                              {HmacAlgorithm::sha1, "sha1"},
                                                              {HmacAlgorithm::sha512, "sha512"}}};
constexpr EnumNames<SignatureEncoding, 2> kSignatureEncodingNames = {
    {{SignatureEncoding::hex, "hex"}, {SignatureEncoding::base64, "base64"}}};
constexpr EnumNames<RunOutcome, 3> kRunOutcomeNames = {{{RunOutcome::finished, "finished"},
                                                        {RunOutcome::failed, "failed"},
                                                        {RunOutcome::blocked, "blocked"}}};
constexpr std::array<std::string_view, 1> kWebhookKeys = {"hmac"};
constexpr std::array<std::string_view, 4> kHmacKeys = {"algorithm", "encoding", "header", "prefix"};
constexpr std::array<std::string_view, 2> kWorkflowEventKeys = {"outcomes", "workflows"};
constexpr std::string_view kBuiltinPrefix = "builtin://";

// RFC 9110's token: the characters a header's name may hold.
bool is_header_name(std::string_view name) {
  if (name.empty() || name.size() > kHeaderNameMax) return false;
  constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return std::all_of(name.begin(), name.end(), [&](char c) {
    return is_ascii_alpha(c) || is_ascii_digit(c) || kSymbols.find(c) != std::string_view::npos;
  });
}

// A project workflow's slug, or a built-in's name after builtin://.
bool is_workflow_slug(std::string_view name) {
  if (name.starts_with(kBuiltinPrefix)) name.remove_prefix(kBuiltinPrefix.size());
  if (name.empty() || name.size() > 128 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return is_ascii_alpha(c) || is_ascii_digit(c) || c == '-' || c == '_' || c == '.';
  });
}

std::optional<WebhookHmac> hmac_at(const nlohmann::json& json, FieldErrors& errors) {
  if (!json.is_object()) {
    errors.push_back(
        FieldError{"/hmac", "hmac must be a map (header, algorithm, prefix, encoding)", false});
    return std::nullopt;
  }
  check_known_keys(json, kHmacKeys, "hmac", "/hmac", errors);
  WebhookHmac hmac;
  if (json.contains("header")) {
    const auto& header = json["header"];
    const std::string name = header.is_string() ? header.get<std::string>() : "";
    if (!is_header_name(name)) {
      errors.push_back(FieldError{"/hmac/header",
                                  "hmac.header must be a header name (letters, digits and "
                                  "!#$%&'*+-.^_`|~), not " +
                                      header.dump(),
                                  false});
    } else if (ascii_iequals(name, "Authorization")) {
      errors.push_back(FieldError{"/hmac/header",
                                  "hmac.header may not be Authorization: the signature needs a "
                                  "header of its own",
                                  false});
    } else {
      hmac.header = name;
    }
  }
  if (json.contains("algorithm")) {
    hmac.algorithm = choice_at(json["algorithm"], kHmacAlgorithmNames, "hmac.algorithm",
                               "/hmac/algorithm", errors)
                         .value_or(hmac.algorithm);
  }
  if (json.contains("encoding")) {
    hmac.encoding = choice_at(json["encoding"], kSignatureEncodingNames, "hmac.encoding",
                              "/hmac/encoding", errors)
                        .value_or(hmac.encoding);
  }
  if (json.contains("prefix")) {
    const auto& prefix = json["prefix"];
    if (!prefix.is_string() || prefix.get<std::string>().size() > kSignaturePrefixMax) {
      errors.push_back(FieldError{
          "/hmac/prefix",
          "hmac.prefix must be text of at most " + std::to_string(kSignaturePrefixMax) + " bytes",
          false});
    } else {
      hmac.prefix = prefix.get<std::string>();
    }
  }
  return hmac;
}

// A list of strings; `what` names it in messages.
std::vector<std::string> strings_at(const nlohmann::json& json, const std::string& what,
                                    FieldErrors& errors) {
  std::vector<std::string> out;
  if (!json.is_array()) {
    errors.push_back(FieldError{"/" + what, what + " must be a list", false});
    return out;
  }
  for (std::size_t i = 0; i < json.size(); ++i) {
    const std::string pointer = "/" + what + "/" + std::to_string(i);
    const std::string place = what + "[" + std::to_string(i) + "]";
    if (!json[i].is_string()) {
      errors.push_back(FieldError{pointer, place + " must be a string", false});
      continue;
    }
    const auto text = json[i].get<std::string>();
    if (std::find(out.begin(), out.end(), text) != out.end()) {
      errors.push_back(FieldError{pointer, place + ": \"" + text + "\" is listed twice", false});
      continue;
    }
    out.push_back(text);
  }
  return out;
}

}  // namespace

std::string_view to_string(HmacAlgorithm algorithm) {
  return name_of(kHmacAlgorithmNames, algorithm);
}
std::string_view to_string(SignatureEncoding encoding) {
  return name_of(kSignatureEncodingNames, encoding);
}
std::string_view to_string(RunOutcome outcome) { return name_of(kRunOutcomeNames, outcome); }

tl::expected<WebhookSpec, FieldErrors> parse_webhook(const nlohmann::json& json) {
  FieldErrors errors;
  WebhookSpec spec;
  if (json.is_null()) return spec;  // `webhook:` with nothing after it
  if (!json.is_object()) {
    errors.push_back(FieldError{"", "webhook must be a map: {} or {hmac: {…}}", false});
    return tl::unexpected(std::move(errors));
  }
  check_known_keys(json, kWebhookKeys, "webhook", "", errors);
  if (json.contains("hmac")) spec.hmac = hmac_at(json["hmac"], errors);
  if (!errors.empty()) return tl::unexpected(std::move(errors));
  return spec;
}

tl::expected<WorkflowEventSpec, FieldErrors> parse_workflow_event(const nlohmann::json& json) {
  FieldErrors errors;
  WorkflowEventSpec spec;
  if (json.is_null()) return spec;
  if (!json.is_object()) {
    errors.push_back(
        FieldError{"", "workflow_event must be a map with workflows and outcomes", false});
    return tl::unexpected(std::move(errors));
  }
  check_known_keys(json, kWorkflowEventKeys, "workflow_event", "", errors);
  if (json.contains("workflows")) {
    spec.workflows = strings_at(json["workflows"], "workflows", errors);
    if (spec.workflows.size() > kEventWorkflowsMax) {
      errors.push_back(FieldError{
          "/workflows",
          "workflows lists more than " + std::to_string(kEventWorkflowsMax) + " workflows", false});
    }
    for (std::size_t i = 0; i < spec.workflows.size(); ++i) {
      if (is_workflow_slug(spec.workflows[i])) continue;
      errors.push_back(FieldError{"/workflows/" + std::to_string(i),
                                  "workflows: \"" + spec.workflows[i] +
                                      "\" is neither a workflow's slug (letters, digits, -, _ "
                                      "and .) nor builtin://NAME",
                                  false});
    }
  }
  if (json.contains("outcomes")) {
    const auto names = strings_at(json["outcomes"], "outcomes", errors);
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (auto outcome = choice_at(nlohmann::json(names[i]), kRunOutcomeNames, "outcomes",
                                   "/outcomes/" + std::to_string(i), errors)) {
        spec.outcomes.push_back(*outcome);
      }
    }
  }
  if (!errors.empty()) return tl::unexpected(std::move(errors));
  return spec;
}

nlohmann::json to_json(const WebhookSpec& spec) {
  nlohmann::json out = nlohmann::json::object();
  if (spec.hmac) {
    out["hmac"] = {{"header", spec.hmac->header},
                   {"algorithm", std::string(to_string(spec.hmac->algorithm))},
                   {"prefix", spec.hmac->prefix},
                   {"encoding", std::string(to_string(spec.hmac->encoding))}};
  }
  return out;
}

nlohmann::json to_json(const WorkflowEventSpec& spec) {
  nlohmann::json outcomes = nlohmann::json::array();
  for (const auto outcome : spec.outcomes) outcomes.push_back(std::string(to_string(outcome)));
  return {{"workflows", spec.workflows}, {"outcomes", std::move(outcomes)}};
}

bool matches(const WorkflowEventSpec& spec, std::string_view workflow, RunOutcome outcome) {
  const bool by_workflow =
      spec.workflows.empty() ||
      std::find(spec.workflows.begin(), spec.workflows.end(), workflow) != spec.workflows.end();
  const bool by_outcome =
      spec.outcomes.empty() ||
      std::find(spec.outcomes.begin(), spec.outcomes.end(), outcome) != spec.outcomes.end();
  return by_workflow && by_outcome;
}

}  // namespace reliant::triggers
