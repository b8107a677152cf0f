// Webhook deliveries (TriggerRoutes::deliver): POST /hooks/{id}[/{token}], authenticated by the
// trigger's token (in the path, or as a bearer token) or by an HMAC signature of the body, then
// fired once per delivery — a sender's retry (the same idempotency key, or the same body within
// the replay window) finds the firing the first one recorded and starts nothing.
#include "services/api/trigger_routes.h"

#include <array>

#include "base/base64url.h"
#include "base/constant_time.h"
#include "base/hmac.h"
#include "base/json_parse.h"
#include "base/sha256.h"
#include "base/utf8.h"
#include "core/triggers/event_sources.h"
#include "services/api/api_support.h"

namespace reliant::api {
namespace {

constexpr std::string_view kHooksPrefix = "/hooks/";
// The headers a sender may name its delivery by, first present wins.
constexpr std::array<std::string_view, 4> kIdempotencyHeaders = {
    "idempotency-key", "x-idempotency-key", "x-request-id", "x-delivery-id"};
constexpr std::size_t kIdempotencyKeyBytesMax = 200;
// Headers and query entries that carry credentials: never in a payload a workflow reads.
constexpr std::array<std::string_view, 5> kSecretHeaders = {
    "authorization", "cookie", "proxy-authorization", "x-api-key", "x-reliant-token"};

HttpResponse no_such_hook() {
  // One answer for an unknown trigger, a wrong token and a bad signature: ids are not revealed.
  return error_response({ErrorCode::not_found, "no webhook here, or not yours to call"});
}

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The standard base64 alphabet with padding, as senders sign with it.
std::string base64_standard(std::string_view bytes) {
  std::string text = base64url_encode(bytes);
  for (auto& c : text) c = c == '-' ? '+' : (c == '_' ? '/' : c);
  while (text.size() % 4 != 0) text += '=';
  return text;
}

// Whether the request carries the body's signature under the secret, as the spec says.
bool signed_by(const HttpRequest& request, const triggers::WebhookHmac& hmac,
               const std::string& secret) {
  const std::string given = request.header(lower(hmac.header));
  if (given.empty() || !given.starts_with(hmac.prefix)) return false;
  const HmacHash hash = hmac.algorithm == triggers::HmacAlgorithm::sha1     ? HmacHash::sha1
                        : hmac.algorithm == triggers::HmacAlgorithm::sha256 ? HmacHash::sha256
                                                                            : HmacHash::sha512;
  const std::string mac = hmac_bytes(hash, secret, request.body);
  const std::string expected =
      hmac.encoding == triggers::SignatureEncoding::hex
          ? to_hex(reinterpret_cast<const std::uint8_t*>(mac.data()), mac.size())
          : base64_standard(mac);
  std::string_view signature = std::string_view(given).substr(hmac.prefix.size());
  // Hex is compared in either case; base64 as it is.
  const std::string compared = hmac.encoding == triggers::SignatureEncoding::hex
                                   ? lower(std::string(signature))
                                   : std::string(signature);
  return constant_time_equal(compared, expected);
}

// The delivery's firing key: the sender's idempotency key, else its body's hash in the window.
std::string delivery_key(const HttpRequest& request, std::int64_t now_ms) {
  for (const auto name : kIdempotencyHeaders) {
    std::string value = request.header(std::string(name));
    if (value.empty()) continue;
    if (value.size() > kIdempotencyKeyBytesMax) value = to_hex(Sha256::of(value));
    return "delivery:" + value;
  }
  return "body:" + to_hex(Sha256::of(request.body)) + ":" +
         std::to_string(now_ms / kWebhookReplayWindowMs);
}

// What the workflow reads as trigger.payload: the body (JSON, or its text), the headers and the
// query without credentials, and the content type. Text the sender sent that is not UTF-8 has
// U+FFFD in place of the bytes that are not: JSON (the stored payload, the run's input) holds
// UTF-8 only.
Json delivery_payload(const HttpRequest& request, const std::string& signature_header) {
  Json body = parse_json_or_discarded(request.body);
  if (body.is_discarded()) body = repair_utf8(request.body);
  Json headers = Json::object();
  for (const auto& [name, value] : request.headers) {
    const bool secret =
        std::find(kSecretHeaders.begin(), kSecretHeaders.end(), name) != kSecretHeaders.end() ||
        name == signature_header;
    if (!secret) headers[repair_utf8(name)] = repair_utf8(value);
  }
  Json query = Json::object();
  for (const auto& [name, value] : request.query) {
    if (name != "token") query[repair_utf8(name)] = repair_utf8(value);
  }
  return Json{{"body", std::move(body)},
              {"headers", std::move(headers)},
              {"query", std::move(query)},
              {"content_type", repair_utf8(request.header("content-type"))}};
}

// Whether the request may fire `trigger`: its token (path or bearer) or its body's signature.
bool admitted(const HttpRequest& request, const std::string& path_token,
              const TriggerRecord& trigger, const workflow::TriggerDeclaration* declaration,
              const TriggerRoutesConfig& config) {
  std::string token = path_token;
  const std::string authorization = request.header("authorization");
  if (token.empty() && authorization.starts_with("Bearer ")) token = authorization.substr(7);
  if (!token.empty() && !trigger.token_hash.empty() &&
      constant_time_equal(to_hex(Sha256::of(token)), trigger.token_hash)) {
    return true;
  }
  const auto* spec =
      declaration ? std::get_if<triggers::WebhookSpec>(&declaration->source) : nullptr;
  if (spec == nullptr || !spec->hmac || trigger.sealed_secret.empty() || !config.secrets_key) {
    return false;
  }
  const auto sealed = base64url_decode(trigger.sealed_secret);
  if (!sealed) return false;
  auto secret = open_sealed(*config.secrets_key, *sealed, "reliant webhook secret\n" + trigger.id);
  return secret && signed_by(request, *spec->hmac, *secret);
}

}  // namespace

bool TriggerRoutes::is_webhook(const HttpRequest& request) {
  return request.path.starts_with(kHooksPrefix);
}

Task<HttpResponse> TriggerRoutes::deliver(HttpRequest request) {
  if (request.method != "POST") {
    co_return error_response({ErrorCode::not_found, "a webhook is called with POST"});
  }
  if (request.body.size() > kWebhookBodyBytesMax) {
    HttpResponse too_large =
        error_response({ErrorCode::resource_exhausted,
                        "the body is over " + std::to_string(kWebhookBodyBytesMax) + " bytes"});
    too_large.status = 413;
    co_return too_large;
  }
  const std::string rest = request.path.substr(kHooksPrefix.size());
  const auto slash = rest.find('/');
  const std::string id = rest.substr(0, slash);
  const std::string path_token = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (id.empty() || path_token.find('/') != std::string::npos) co_return no_such_hook();
  const std::int64_t now_ms = to_ms(env_.executor.now());
  const std::string key = delivery_key(request, now_ms);
  struct Delivered {
    int status = 202;
    Json body;
  };
  const std::vector<std::string> ids = firing_ids();
  auto body = [this, request, id, path_token, key, now_ms,
               ids](SqlTransaction& tx) -> Result<Delivered> {
    auto trigger = find_trigger_by_id(tx, id);
    if (!trigger) return fail(trigger.error());
    if (!*trigger || (*trigger)->kind != TriggerKind::webhook) return Delivered{404, Json()};
    auto declaration = triggers::trigger_declaration(tx, **trigger, config_.zones);
    if (!admitted(request, path_token, **trigger, declaration ? &*declaration : nullptr, config_))
      return Delivered{404, Json()};
    if (!(*trigger)->enabled) return Delivered{409, Json()};
    const auto* spec =
        declaration ? std::get_if<triggers::WebhookSpec>(&declaration->source) : nullptr;
    const std::string signature_header =
        spec && spec->hmac ? lower(spec->hmac->header) : std::string();
    const triggers::FireRequest fire{
        key, "webhook", now_ms, delivery_payload(request, signature_header), false, now_ms};
    auto fired = triggers::fire_trigger(tx, firing_env(ids), **trigger, declaration, fire);
    if (!fired) return fail(fired.error());
    Json out = firing_view(fired->firing);
    out["duplicate"] = fired->duplicate;
    return Delivered{202, std::move(out)};
  };
  Task<Result<Delivered>> delivering = env_.store->transact_for(std::move(body));
  Result<Delivered> delivered = co_await delivering;
  if (!delivered) {
    co_return error_response(
        {ErrorCode::unavailable, "the delivery could not be recorded: send it again"});
  }
  if (delivered->status == 404) co_return no_such_hook();
  request.mark_authenticated();  // a valid token or signature: the connection is a caller's
  if (delivered->status == 409) {
    co_return error_response({ErrorCode::failed_precondition, "this webhook is disabled"});
  }
  wake();
  co_return json_response(202, delivered->body);
}

}  // namespace reliant::api
