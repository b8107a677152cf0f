// The sources of triggers besides schedules (schedule.h), as a workflow file declares them:
// webhooks — an HTTP request to the trigger's URL, its body checked against an HMAC signature
// when the declaration asks for one — and workflow events — another run ending. Specs read from
// JSON with every mistake reported, and written back; the service receives the requests and
// events and checks signatures with base/hmac.h.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "core/triggers/spec_fields.h"

namespace reliant::triggers {

enum class HmacAlgorithm { sha256, sha1, sha512 };
enum class SignatureEncoding { hex, base64 };
std::string_view to_string(HmacAlgorithm algorithm);
std::string_view to_string(SignatureEncoding encoding);

inline constexpr std::size_t kSignaturePrefixMax = 64;
inline constexpr std::size_t kHeaderNameMax = 128;

// Where a sender puts the body's signature: `header: PREFIX + encoding(HMAC(secret, body))`.
// The secret is not part of the declaration: the service keeps it.
struct WebhookHmac {
  std::string header = "X-Signature-256";
  HmacAlgorithm algorithm = HmacAlgorithm::sha256;
  std::string prefix;  // as "sha256=" (GitHub's); empty for none
  SignatureEncoding encoding = SignatureEncoding::hex;

  bool operator==(const WebhookHmac&) const = default;
};

struct WebhookSpec {
  std::optional<WebhookHmac> hmac;  // none: requests are not signed

  bool operator==(const WebhookSpec&) const = default;
};

// How a run ended, as workflow events name it.
enum class RunOutcome { finished, failed, blocked };
std::string_view to_string(RunOutcome outcome);

inline constexpr std::size_t kEventWorkflowsMax = 50;

struct WorkflowEventSpec {
  // The workflows whose runs count: a project workflow's slug, or builtin://NAME. Empty: any.
  std::vector<std::string> workflows;
  std::vector<RunOutcome> outcomes;  // empty: every outcome

  bool operator==(const WorkflowEventSpec&) const = default;
};

// `{}` or `{hmac: {header, algorithm: sha256|sha1|sha512, prefix, encoding: hex|base64}}`.
// The header must be a header name and not Authorization; the prefix at most 64 bytes.
tl::expected<WebhookSpec, FieldErrors> parse_webhook(const nlohmann::json& json);
// `{workflows: [slug | builtin://NAME …], outcomes: [finished|failed|blocked …]}`, each list
// without repeats; at most kEventWorkflowsMax workflows.
tl::expected<WorkflowEventSpec, FieldErrors> parse_workflow_event(const nlohmann::json& json);

nlohmann::json to_json(const WebhookSpec& spec);
nlohmann::json to_json(const WorkflowEventSpec& spec);

// Whether a run of `workflow` (its slug or builtin://NAME) that ended with `outcome` is an
// event for `spec`.
bool matches(const WorkflowEventSpec& spec, std::string_view workflow, RunOutcome outcome);

}  // namespace reliant::triggers
