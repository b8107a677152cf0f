// JSON helpers, bearer authentication and the daemon listing (store transactions).
#include "services/api/api_support.h"

#include <limits>

#include <algorithm>
#include <memory>

#include "base/assert.h"
#include "base/json_parse.h"
#include "core/personal_access_token.h"
#include "services/api/api_server.h"
#include "services/storage/accounts.h"

namespace reliant::api {

HttpResponse json_response(int status, const Json& body) {
  HttpResponse response;
  response.status = status;
  response.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return response;
}

Result<Json> parse_json_body(const HttpRequest& request) {
  if (request.body.empty()) return Json::object();
  auto body = parse_json(request.body);
  if (!body) {
    return fail(ErrorCode::invalid_argument,
                "the request body is not valid JSON: " + body.error().message);
  }
  if (!body->is_object())
    return fail(ErrorCode::invalid_argument, "the request body must be a JSON object");
  return body;
}

bool header_name_is(std::string_view name, std::string_view lower_case_name) {
  if (name.size() != lower_case_name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower_case_name[i]) return false;
  }
  return true;
}

std::vector<std::string> path_segments(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::size_t end = slash == std::string::npos ? path.size() : slash;
    if (end > start) parts.push_back(path.substr(start, end - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return parts;
}

Task<HttpResponse> transact_and_respond(Env& env, JsonTransactionBody body, int status) {
  Task<Result<Json>> running = env.store->transact_for(std::move(body));
  Result<Json> out = co_await running;
  if (!out) co_return error_response(out.error());
  co_return json_response(status, *out);
}

namespace {

Task<Result<Credential>> authenticate_jwt(Env& env, const BearerVerifier& jwt, std::string token) {
  const std::int64_t now_ms = to_ms(env.executor.now());
  auto identity = jwt.verify(token, now_ms);
  if (!identity) co_return fail(identity.error());
  auto body = [identity = *identity, now_ms](SqlTransaction& tx) -> Result<std::string> {
    auto known = find_jwt_user(tx, identity.subject);
    if (!known) return fail(known.error());
    if (*known) return (*known)->id;
    // A user with this subject for an id, made another way (`reliant admin user create`): a
    // JWT naming it must not sign in as it.
    auto same_id = find_user(tx, identity.subject);
    if (!same_id) return fail(same_id.error());
    if (*same_id) {
      return fail(ErrorCode::unauthenticated,
                  "the JWT's subject is the id of a user who signs in another way");
    }
    // First sight of this user of the identity provider: the account starts here.
    const std::string email =
        identity.email.empty() ? identity.subject + "@jwt.invalid" : identity.email;
    // An account made another way (`reliant admin user create`, another subject) may have this
    // email. Joining the two on the email alone would hand that account to whoever controls
    // this identity, so the request is refused, saying what to do. (The insert used to fail
    // on the unique email, and the failure was ignored: Postgres then refused the commit with
    // its own text.)
    auto taken = find_user_by_email(tx, email);
    if (!taken) return fail(taken.error());
    if (*taken) {
      return fail(ErrorCode::already_exists,
                  "a user with the email " + email +
                      " already exists and signs in another way: use that account's token "
                      "(`reliant admin token create --user " +
                      email +
                      "` makes one), or sign in to the identity provider with another email");
    }
    auto inserted = insert_jwt_user_unless_present(
        tx, User{identity.subject, email, email.substr(0, email.find('@')), now_ms});
    if (!inserted) return fail(inserted.error());
    if (*inserted) return identity.subject;
    // Another request of this user's made it first — or, in a race, a user made another way
    // took the id: that one is not this JWT's.
    auto raced = find_jwt_user(tx, identity.subject);
    if (!raced) return fail(raced.error());
    if (!*raced) {
      return fail(ErrorCode::unauthenticated,
                  "the JWT's subject is the id of a user who signs in another way");
    }
    return (*raced)->id;
  };
  Task<Result<std::string>> recording = env.store->transact_for(std::move(body));
  Result<std::string> user_id = co_await recording;
  if (!user_id) co_return fail(user_id.error());
  co_return Credential{*user_id, "", identity->expires_at_ms};
}

}  // namespace

Task<Result<Credential>> authenticate_credential(Env& env, const BearerVerifier* jwt,
                                                 std::string token) {
  if (token.empty()) {
    co_return fail(ErrorCode::unauthenticated,
                   "missing credentials: send 'Authorization: Bearer <token>'");
  }
  if (!token.starts_with(kPatPrefix)) {
    if (jwt == nullptr)
      co_return fail(ErrorCode::unauthenticated, "invalid token: not a personal access token");
    Task<Result<Credential>> checking = authenticate_jwt(env, *jwt, std::move(token));
    co_return co_await checking;
  }
  Task<Result<Credential>> checking = env.store->transact_for(
      [token, now_ms = to_ms(env.executor.now())](SqlTransaction& tx) -> Result<Credential> {
        auto who = reliant::authenticate_token(tx, token, now_ms);
        if (!who) return fail(who.error());
        return Credential{who->user.id, who->token_id, who->expires_at_ms};
      });
  co_return co_await checking;
}

Result<MessagePageQuery> message_page_query(std::int64_t limit, std::int64_t after,
                                            std::int64_t before) {
  if (limit < 0 || after < 0 || before < 0) {
    return fail(ErrorCode::invalid_argument, "limit, after and before must not be negative");
  }
  if (after > 0 && before > 0) {
    return fail(ErrorCode::invalid_argument,
                "give after (the page after a message) or before (the page before one), not both");
  }
  MessagePageQuery page;
  page.limit = limit == 0 ? kMessagePageDefault : std::min(limit, kMessagePageMax);
  page.after_ordinal = after;
  if (before > 0) page.before_ordinal = before;
  return page;
}

Task<Result<std::vector<DaemonRecord>>> load_daemons(Env& env, std::string user_id) {
  Task<Result<std::vector<DaemonRecord>>> reading = env.store->transact_for(
      [user_id](SqlTransaction& tx) { return reliant::list_daemons(tx, user_id); });
  Result<std::vector<DaemonRecord>> daemons = co_await reading;
  co_return daemons;
}

Result<std::int64_t> parse_seq(const std::string& text, const std::string& what) {
  if (text.empty()) return std::int64_t{0};
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || value > (std::numeric_limits<std::int64_t>::max() - 9) / 10) {
      return fail(ErrorCode::invalid_argument,
                  what + " must be a non-negative integer, not '" + text + "'");
    }
    value = value * 10 + (c - '0');
  }
  return value;
}

Error diagnosed(std::string_view file, const std::vector<workflow::Diagnostic>& mistakes,
                Json* diagnostics) {
  RELIANT_ASSERT(!mistakes.empty());
  Json all = Json::array();
  for (const auto& d : mistakes) {
    all.push_back({{"line", d.mark.line},
                   {"column", d.mark.column},
                   {"message", d.message},
                   {"text", workflow::format(file, d)}});
  }
  if (diagnostics != nullptr) *diagnostics = all;
  return {ErrorCode::invalid_argument,
          all[0]["text"].get<std::string>() +
              (all.size() > 1 ? " (and " + std::to_string(all.size() - 1) + " more)" : "")};
}

HttpResponse respond_diagnosed(const Result<Json>& out, int status, const Json& diagnostics) {
  if (out) return json_response(status, *out);
  if (diagnostics.empty()) return error_response(out.error());
  return json_response(400,
                       {{"error", {{"code", "invalid_argument"}, {"message", out.error().message}}},
                        {"diagnostics", diagnostics}});
}

}  // namespace reliant::api
