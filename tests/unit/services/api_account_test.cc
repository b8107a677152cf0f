// The api's account surface on the simulated store: the CLI's browser sign-in (loopback
// redirects only, one-time codes bound to a PKCE verifier and a redirect URI), tokens made and
// revoked over REST, settings, projects and worktrees, and that one user never reaches
// another's.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/constant_time.h"
#include "base/url_encoding.h"
#include "core/pkce.h"
#include "core/workflow/engine_workflow.h"
#include "runtime/sleep.h"
#include "services/api/api_server.h"
#include "services/storage/accounts.h"
#include "services/storage/migrator.h"
#include "services/worker/worker.h"
#include "sim/one_node.h"

namespace reliant::api {
namespace {

using Json = nlohmann::json;

// Fast and transparent, so the tests exercise the flow rather than PBKDF2 (tested on its own).
// It counts its checks, and with a `delay` it is as slow as a real hash (off the executor, in
// virtual time), so that concurrent sign-ins overlap.
class PlainPasswordHasher final : public PasswordHasher {
 public:
  explicit PlainPasswordHasher(Executor& executor) : executor_(executor) {}
  Task<std::string> hash(std::string password) override {
    ++hashes;
    co_return "plain$" + password;
  }
  Task<bool> verify(std::string password, std::string stored) override {
    ++verifies;
    if (delay > Duration{0}) co_await sleep(executor_, delay);
    co_return constant_time_equal("plain$" + password, stored);
  }

  Duration delay{0};
  int hashes = 0;
  int verifies = 0;

 private:
  Executor& executor_;
};

constexpr const char* kRedirect = "http://127.0.0.1:43123/callback";
const std::string kVerifier(64, 'v');

struct Api : sim::OneNode {
  PlainPasswordHasher passwords{executor};
  SeededSecretSource secrets{random};
  LocalSignIn local{"local-user"};
  WebAssets web = {{"/index.html", {"text/html; charset=utf-8", "<p>app</p>", false}},
                   {"/assets/app-1.js", {"text/javascript; charset=utf-8", "go()", true}}};
  std::unique_ptr<ApiServer> api;

  Api() : OneNode(11, 3, "api") {
    EXPECT_TRUE(run(migrate_up(store, world.now())).has_value());
    ApiConfig config;
    config.passwords = &passwords;
    config.secrets = &secrets;
    config.local_sign_in = &local;
    config.web = &web;
    api = std::make_unique<ApiServer>(env, config);
  }
  HttpResponse browser(const std::string& method, const std::string& path,
                       const std::string& cookie, const std::string& csrf = "",
                       const std::string& body = "") {
    HttpRequest request;
    request.method = method;
    request.path = path;
    if (!cookie.empty()) request.headers["cookie"] = "theme=dark; reliant_session=" + cookie;
    if (!csrf.empty()) request.headers["x-csrf-token"] = csrf;
    request.body = body;
    request.remote_address = "10.0.0.7";
    return run(api->handle(std::move(request)));
  }
  // The session token a response's Set-Cookie carries ("" when none).
  static std::string cookie_of(const HttpResponse& response) {
    for (const auto& [name, value] : response.headers) {
      if (name != "Set-Cookie" || !value.starts_with("reliant_session=")) continue;
      return value.substr(16, value.find(';') - 16);
    }
    return "";
  }
  // A user with this email and password (empty: none), and a token of theirs.
  std::string add_user(const std::string& id, const std::string& email,
                       const std::string& password) {
    std::array<std::uint8_t, kPatRandomBytes> secret{};
    secret[0] = static_cast<std::uint8_t>(id.size());
    secret[1] = static_cast<std::uint8_t>(id.back());
    const NewToken token = make_token(secret, "tok-" + id, id, "test", 0);
    auto made = database.database().transact([&](SqlTransaction& tx) -> Result<void> {
      if (auto ok = insert_user(tx, User{id, email, "", 0}); !ok) return ok;
      if (!password.empty()) {
        if (auto ok = set_password_hash(tx, id, "plain$" + password); !ok) return ok;
      }
      return insert_new_token(tx, token);
    });
    EXPECT_TRUE(made.has_value()) << made.error().message;
    return token.token;
  }
  HttpResponse call(const std::string& method, const std::string& target,
                    const std::string& token = "", const std::string& body = "") {
    HttpRequest request;
    request.method = method;
    const auto question = target.find('?');
    request.path = target.substr(0, question);
    if (question != std::string::npos)
      request.query = parse_form_urlencoded(target.substr(question + 1));
    if (!token.empty()) request.headers["authorization"] = "Bearer " + token;
    request.body = body;
    return run(api->handle(std::move(request)));
  }
  HttpResponse send(HttpRequest request) { return run(api->handle(std::move(request))); }
  Json json(const HttpResponse& response) { return Json::parse(response.body); }
  std::string form(const std::string& email, const std::string& password,
                   const std::string& redirect = kRedirect) {
    return "email=" + url_encode(email) + "&password=" + url_encode(password) +
           "&redirect_uri=" + url_encode(redirect) +
           "&state=st%3C1%3E&code_challenge=" + pkce_challenge(kVerifier);
  }
  // Signs in through the form and returns the code from the redirect ("" when refused).
  std::string sign_in(const std::string& email, const std::string& password) {
    const HttpResponse page = call("POST", "/cli/login", "", form(email, password));
    if (page.status != 303) return "";
    for (const auto& [name, value] : page.headers) {
      if (name != "Location") continue;
      const auto query = parse_form_urlencoded(value.substr(value.find('?') + 1));
      EXPECT_EQ(query.at("state"), "st<1>") << "the state goes back as it came";
      EXPECT_TRUE(value.starts_with(kRedirect));
      return query.at("code");
    }
    ADD_FAILURE() << "a 303 without a Location";
    return "";
  }
  HttpResponse trade(const std::string& code, const std::string& verifier = kVerifier,
                     const std::string& redirect = kRedirect) {
    return call(
        "POST", "/api/v1/auth/cli/token", "",
        Json{{"code", code}, {"code_verifier", verifier}, {"redirect_uri", redirect}}.dump());
  }
};

// The web app's sign-in: email and password (the CLI sign-in's checks) or the monolith's
// one-time link give an HttpOnly, SameSite=Strict cookie; a request it authenticates that changes
// something needs the session's CSRF token; signing out revokes it.
TEST(BrowserSessions, CookiesSignInCsrfGuardsChangesAndSigningOutRevokes) {
  Api a;
  a.add_user("u-web", "web@example.com", "correct horse");
  HttpResponse wrong = a.call("POST", "/api/v1/auth/session", "",
                              Json{{"email", "web@example.com"}, {"password", "nope"}}.dump());
  EXPECT_EQ(wrong.status, 401);
  EXPECT_TRUE(Api::cookie_of(wrong).empty());
  HttpResponse signed_in =
      a.call("POST", "/api/v1/auth/session", "",
             Json{{"email", "web@example.com"}, {"password", "correct horse"}}.dump());
  ASSERT_EQ(signed_in.status, 200) << signed_in.body;
  const std::string cookie = Api::cookie_of(signed_in);
  ASSERT_FALSE(cookie.empty());
  for (const auto& [name, value] : signed_in.headers) {
    if (name != "Set-Cookie") continue;
    EXPECT_NE(value.find("HttpOnly"), std::string::npos) << value;
    EXPECT_NE(value.find("SameSite=Strict"), std::string::npos) << value;
    EXPECT_NE(value.find("Secure"), std::string::npos) << value;
  }
  EXPECT_EQ(signed_in.body.find(cookie), std::string::npos) << "the page's script never sees it";
  const std::string csrf = a.json(signed_in)["csrf_token"];

  const HttpResponse who = a.browser("GET", "/api/v1/auth/session", cookie);
  ASSERT_EQ(who.status, 200);
  EXPECT_EQ(a.json(who)["user_id"], "u-web");
  EXPECT_EQ(a.json(who)["csrf_token"], csrf);
  EXPECT_EQ(a.browser("GET", "/api/v1/chats", cookie).status, 200) << "reads need no CSRF token";
  const std::string chat = Json{{"title", "from the browser"}}.dump();
  EXPECT_EQ(a.browser("POST", "/api/v1/chats", cookie, "", chat).status, 403)
      << "a cross-site form's POST carries the cookie but cannot know the token";
  EXPECT_EQ(a.browser("POST", "/api/v1/chats", cookie, "x" + csrf, chat).status, 403);
  EXPECT_EQ(a.browser("POST", "/api/v1/chats", cookie, csrf, chat).status, 201);

  EXPECT_EQ(a.browser("DELETE", "/api/v1/auth/session", cookie).status, 403);
  const HttpResponse out = a.browser("DELETE", "/api/v1/auth/session", cookie, csrf);
  ASSERT_EQ(out.status, 200);
  EXPECT_EQ(a.browser("GET", "/api/v1/chats", cookie).status, 401) << "revoked";
  EXPECT_EQ(a.browser("GET", "/api/v1/auth/session", cookie).status, 401);
}

TEST(BrowserSessions, AOneTimeLinkSignsInOnceAndTheAppIsServedAtTheRoot) {
  Api a;
  auto made = a.database.database().transact([](SqlTransaction& tx) -> Result<void> {
    return insert_user(tx, User{"local-user", "local@localhost", "", 0});
  });
  ASSERT_TRUE(made.has_value());
  const std::string code = a.local.issue(a.secrets, a.executor.steady_now());
  const std::string body = Json{{"code", code}}.dump();
  const HttpResponse first = a.call("POST", "/api/v1/auth/session/local", "", body);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(a.json(first)["user_id"], "local-user");
  EXPECT_FALSE(Api::cookie_of(first).empty());
  EXPECT_EQ(a.call("POST", "/api/v1/auth/session/local", "", body).status, 401) << "once";
  const std::string late = a.local.issue(a.secrets, a.executor.steady_now());
  a.world.run_until(a.world.now() + LocalSignIn::kLifetime + seconds(1));
  EXPECT_EQ(a.call("POST", "/api/v1/auth/session/local", "", Json{{"code", late}}.dump()).status,
            401)
      << "expired";

  const HttpResponse root = a.call("GET", "/");
  EXPECT_EQ(root.status, 200);
  EXPECT_EQ(root.body, "<p>app</p>");
  bool csp = false;
  for (const auto& [name, value] : root.headers) csp |= name == "Content-Security-Policy";
  EXPECT_TRUE(csp);
  EXPECT_EQ(a.call("GET", "/chats/abc").body, "<p>app</p>") << "the app's own routes";
  EXPECT_EQ(a.call("GET", "/assets/app-1.js").body, "go()");
  EXPECT_EQ(a.call("GET", "/assets/missing.js").status, 404);
  EXPECT_EQ(a.call("GET", "/api/v1/chats").status, 401) << "the API is not the app";
}

// Cookies are kept per host, not per port: each server names its cookie after the port the
// browser used, so two monoliths on one host keep their sessions apart.
TEST(BrowserSessions, TheCookieIsNamedForThePortTheBrowserUsed) {
  Api a;
  a.add_user("u-web", "web@example.com", "correct horse");
  HttpRequest sign_in;
  sign_in.method = "POST";
  sign_in.path = "/api/v1/auth/session";
  sign_in.headers["host"] = "127.0.0.1:8080";
  sign_in.body = Json{{"email", "web@example.com"}, {"password", "correct horse"}}.dump();
  const HttpResponse signed_in = a.send(sign_in);
  ASSERT_EQ(signed_in.status, 200) << signed_in.body;
  std::string token;
  for (const auto& [name, value] : signed_in.headers) {
    if (name == "Set-Cookie" && value.starts_with("reliant_session_8080=")) {
      token = value.substr(21, value.find(';') - 21);
    }
  }
  ASSERT_FALSE(token.empty()) << "the cookie is named for port 8080";
  const auto who = [&](const std::string& host, const std::string& cookie) {
    HttpRequest request;
    request.method = "GET";
    request.path = "/api/v1/auth/session";
    request.headers["host"] = host;
    request.headers["cookie"] = cookie;
    return a.send(request).status;
  };
  EXPECT_EQ(who("127.0.0.1:8080", "reliant_session_8080=" + token), 200);
  // Another server on the same host (the browser sends it every cookie of the host) does not
  // take this one for its own, and its own does not reach this one.
  EXPECT_EQ(who("127.0.0.1:8081", "reliant_session_8080=" + token), 401);
  EXPECT_EQ(who("127.0.0.1:8080", "reliant_session_8081=" + token), 401);
  EXPECT_EQ(who("127.0.0.1:8080", "reliant_session=" + token), 401);
  // Without a port (a proxy on the scheme's default one), the plain name; junk is no name.
  const auto name_for = [](const std::string& host) {
    HttpRequest request;
    request.headers["host"] = host;
    return session_cookie_name(request);
  };
  EXPECT_EQ(name_for("example.com"), "reliant_session");
  EXPECT_EQ(name_for("[::1]:9000"), "reliant_session_9000");
  EXPECT_EQ(name_for("[::1]"), "reliant_session");
  EXPECT_EQ(name_for("x:80; Path=/"), "reliant_session");
}

// Every API answer — the new token's included — is neither cached nor sniffed; the web app's
// files keep the caching they ask for.
TEST(ApiRoutes, AnswersAreNotCachedNorSniffed) {
  Api a;
  const std::string ada = a.add_user("u1", "ada@example.com", "");
  const auto header = [](const HttpResponse& response, const std::string& wanted) {
    std::string found;
    for (const auto& [name, value] : response.headers) {
      if (name == wanted) found = value;
    }
    return found;
  };
  for (const HttpResponse& response :
       {a.call("POST", "/api/v1/tokens", ada, R"({"name":"laptop"})"),
        a.call("GET", "/api/v1/chats", ada), a.call("GET", "/api/v1/chats"),
        a.call("GET", "/health")}) {
    EXPECT_EQ(header(response, "Cache-Control"), "no-store") << response.body;
    EXPECT_EQ(header(response, "X-Content-Type-Options"), "nosniff") << response.body;
  }
  const HttpResponse asset = a.call("GET", "/assets/app-1.js");
  EXPECT_EQ(header(asset, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(header(asset, "X-Content-Type-Options"), "nosniff");
}

// RFC 9110 §11.1: the scheme is case-insensitive.
TEST(ApiRoutes, TheBearerSchemeIsCaseInsensitive) {
  Api a;
  const std::string ada = a.add_user("u1", "ada@example.com", "");
  for (const std::string scheme : {"Bearer ", "bearer ", "BEARER ", "Bearer   "}) {
    HttpRequest request;
    request.method = "GET";
    request.path = "/api/v1/me";
    request.headers["authorization"] = scheme + ada;
    EXPECT_EQ(a.send(request).status, 200) << scheme;
  }
}

// The server learns which connections carried a valid credential (HttpRequest::authenticated):
// those are never closed to make room for unauthenticated ones.
TEST(ApiRoutes, AValidCredentialTellsTheServerItsConnectionIsAuthenticated) {
  Api a;
  const std::string ada = a.add_user("u1", "ada@example.com", "correct horse");
  const auto marks = [&](HttpRequest request) {
    int marked = 0;
    request.authenticated = [&marked] { ++marked; };
    (void)a.send(std::move(request));
    return marked;
  };
  HttpRequest me;
  me.method = "GET";
  me.path = "/api/v1/me";
  EXPECT_EQ(marks(me), 0) << "no credential";
  me.headers["authorization"] = "Bearer rlnt_pat_not_a_real_one";
  EXPECT_EQ(marks(me), 0) << "a wrong one";
  me.headers["authorization"] = "Bearer " + ada;
  EXPECT_EQ(marks(me), 1);
  HttpRequest health;
  health.method = "GET";
  health.path = "/health";
  EXPECT_EQ(marks(health), 0);
  HttpRequest sign_in;
  sign_in.method = "POST";
  sign_in.path = "/api/v1/auth/session";
  sign_in.body = Json{{"email", "ada@example.com"}, {"password", "correct horse"}}.dump();
  EXPECT_EQ(marks(sign_in), 1) << "a password that signs in";
  sign_in.body = Json{{"email", "ada@example.com"}, {"password", "wrong"}}.dump();
  EXPECT_EQ(marks(sign_in), 0);
}

TEST(CliLogin, TheSignInPageAcceptsOnlyLoopbackRedirectsAndEscapesWhatItEchoes) {
  Api a;
  const std::string challenge = pkce_challenge(kVerifier);
  const auto page = [&](const std::string& redirect, const std::string& state) {
    return a.call("GET", "/cli/login?redirect_uri=" + url_encode(redirect) +
                             "&state=" + url_encode(state) + "&code_challenge=" + challenge);
  };
  const HttpResponse ok = page("http://localhost:5000/cb", "\"><script>");
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("<form method=\"post\""), std::string::npos);
  EXPECT_EQ(ok.body.find("<script>"), std::string::npos) << "the state is escaped";
  EXPECT_NE(ok.body.find("&quot;&gt;&lt;script&gt;"), std::string::npos);
  for (const std::string bad :
       {"https://evil.example/cb", "http://evil.example:80/cb", "http://127.0.0.1.evil.example:80/",
        "http://127.0.0.1/cb", "http://127.0.0.1:80@evil.example/", "javascript:alert(1)", ""}) {
    EXPECT_EQ(page(bad, "s").status, 400) << bad;
  }
  EXPECT_EQ(page(kRedirect, "").status, 400) << "no state";
  EXPECT_EQ(a.call("GET", "/cli/login?redirect_uri=" + url_encode(kRedirect) +
                              "&state=s&code_challenge=short")
                .status,
            400);
}

TEST(CliLogin, ACodeBuysOneTokenWithItsVerifierAndRedirectOnly) {
  Api a;
  a.add_user("u1", "ada@example.com", "right password");
  EXPECT_EQ(a.sign_in("ada@example.com", "wrong"), "");
  EXPECT_EQ(a.sign_in("nobody@example.com", "right password"), "");
  EXPECT_EQ(a.call("POST", "/cli/login", "",
                   a.form("ada@example.com", "right password", "https://evil.example/"))
                .status,
            400)
      << "a good password does not send a code to a foreign redirect";

  const std::string code = a.sign_in("ada@example.com", "right password");
  ASSERT_FALSE(code.empty());
  EXPECT_EQ(a.trade(code, std::string(64, 'w')).status, 401) << "another verifier";
  EXPECT_EQ(a.trade(code, kVerifier, "http://127.0.0.1:9/other").status, 401) << "another URI";
  EXPECT_EQ(a.trade(code, "short").status, 400);
  const HttpResponse traded = a.trade(code);
  ASSERT_EQ(traded.status, 201) << traded.body;
  const Json issued = a.json(traded);
  EXPECT_EQ(issued["user_id"], "u1");
  EXPECT_EQ(issued["email"], "ada@example.com");
  EXPECT_EQ(a.call("GET", "/api/v1/me", issued["token"]).status, 200);
  EXPECT_EQ(a.trade(code).status, 401) << "a code works once";
  EXPECT_EQ(a.trade("made-up-code").status, 401);
  EXPECT_EQ(a.trade(code, kVerifier).body.find("rlnt_pat_"), std::string::npos);
}

TEST(CliLogin, ACodeExpiresAfterFiveMinutes) {
  Api a;
  a.add_user("u1", "ada@example.com", "pw");
  const std::string code = a.sign_in("ada@example.com", "pw");
  ASSERT_FALSE(code.empty());
  a.world.run_until(a.world.now() + seconds(301));
  EXPECT_EQ(a.trade(code).status, 401);
}

TEST(CliLogin, RepeatedWrongPasswordsLockTheAccountForAWhile) {
  Api a;
  a.add_user("u1", "ada@example.com", "pw");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(a.call("POST", "/cli/login", "", a.form("ada@example.com", "guess")).status, 401);
  }
  const HttpResponse locked = a.call("POST", "/cli/login", "", a.form("ADA@example.com", "pw"));
  EXPECT_EQ(locked.status, 429) << "even the right password, in any letter case";
  EXPECT_NE(locked.body.find("Too many failed sign-ins"), std::string::npos);
  a.world.run_until(a.world.now() + minutes(15) + seconds(1));
  EXPECT_FALSE(a.sign_in("ada@example.com", "pw").empty()) << "the lock expires";
}

// One sign-in attempt through the form, from `address`, its status appended to `statuses`.
Task<void> attempt_sign_in(ApiServer* api, std::string body, std::string address,
                           std::vector<int>* statuses) {
  HttpRequest request;
  request.method = "POST";
  request.path = "/cli/login";
  request.body = std::move(body);
  request.remote_address = std::move(address);
  Task<HttpResponse> handling = api->handle(std::move(request));
  HttpResponse response = co_await handling;
  statuses->push_back(response.status);
}

// The limit holds for attempts that overlap: each is counted before its (slow) hash check, so
// those beyond the limit are refused without one. Counted after the check, 100 concurrent
// wrong passwords got a check each.
TEST(CliLogin, ConcurrentWrongPasswordsGetNoMoreHashChecksThanTheLimit) {
  Api a;
  a.add_user("u1", "ada@example.com", "pw");
  a.passwords.delay = seconds(1);
  std::vector<int> statuses;
  for (int i = 0; i < 100; ++i) {  // one account, from 100 addresses
    a.scope->spawn(attempt_sign_in(a.api.get(), a.form("ada@example.com", "guess"),
                                   "10.0.0." + std::to_string(i), &statuses));
  }
  while (statuses.size() < 100 && a.world.step()) {
  }
  ASSERT_EQ(statuses.size(), 100u);
  EXPECT_EQ(a.passwords.verifies, 5) << "five per account";
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 401), 5);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 429), 95);

  statuses.clear();
  a.passwords.verifies = 0;
  for (int i = 0; i < 100; ++i) {  // 100 accounts, from one address
    a.scope->spawn(attempt_sign_in(a.api.get(),
                                   a.form("user" + std::to_string(i) + "@example.com", "guess"),
                                   "192.0.2.7", &statuses));
  }
  while (statuses.size() < 100 && a.world.step()) {
  }
  ASSERT_EQ(statuses.size(), 100u);
  EXPECT_EQ(a.passwords.verifies, 20) << "twenty per address";
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 429), 80);
}

// A success is not a failure: it clears the account and does not count against the address.
TEST(CliLogin, SuccessfulSignInsDoNotCountAgainstTheAddress) {
  Api a;
  a.add_user("u1", "ada@example.com", "pw");
  for (int i = 0; i < 30; ++i) {
    EXPECT_FALSE(a.sign_in("ada@example.com", "pw").empty()) << "sign-in " << i;
  }
  for (int i = 0; i < 4; ++i) EXPECT_EQ(a.sign_in("ada@example.com", "guess"), "");
  EXPECT_FALSE(a.sign_in("ada@example.com", "pw").empty()) << "four failures, then the password";
  for (int i = 0; i < 5; ++i) EXPECT_EQ(a.sign_in("ada@example.com", "guess"), "");
  EXPECT_EQ(a.call("POST", "/cli/login", "", a.form("ada@example.com", "pw")).status, 429);
}

TEST(CliLogin, AUserWithoutAPasswordCannotSignInThisWay) {
  Api a;
  a.add_user("u1", "ada@example.com", "");
  EXPECT_EQ(a.sign_in("ada@example.com", ""), "");
  EXPECT_EQ(a.sign_in("ada@example.com", "plain$"), "");
}

TEST(AccountRoutes, TokensAreShownOnceListedWithoutSecretsAndRevocableOnlyByTheirOwner) {
  Api a;
  const std::string ada = a.add_user("u1", "ada@example.com", "");
  const std::string bob = a.add_user("u22", "bob@example.com", "");
  const HttpResponse created =
      a.call("POST", "/api/v1/tokens", ada, R"({"name":"daemon laptop","expires_in_days":30})");
  ASSERT_EQ(created.status, 201) << created.body;
  const Json token = a.json(created);
  const std::string value = token["token"];
  EXPECT_EQ(a.call("GET", "/api/v1/me", value).status, 200);
  EXPECT_TRUE(token["expires_at_ms"].is_number());
  EXPECT_EQ(token["user_id"], "u1") << "the CLI learns whose token it is without asking again";

  const HttpResponse listed = a.call("GET", "/api/v1/tokens", ada);
  EXPECT_EQ(listed.status, 200);
  EXPECT_EQ(a.json(listed)["tokens"].size(), 2u);
  EXPECT_EQ(listed.body.find(value), std::string::npos) << "a listing never holds a token";
  EXPECT_EQ(a.json(a.call("GET", "/api/v1/tokens", bob))["tokens"].size(), 1u);

  const std::string id = token["id"];
  EXPECT_EQ(a.call("DELETE", "/api/v1/tokens/" + id, bob).status, 404) << "not bob's";
  EXPECT_EQ(a.call("GET", "/api/v1/me", value).status, 200);
  EXPECT_EQ(a.call("DELETE", "/api/v1/tokens/" + id, ada).status, 200);
  EXPECT_EQ(a.call("GET", "/api/v1/me", value).status, 401) << "revoked";

  EXPECT_EQ(a.call("POST", "/api/v1/tokens", ada, R"({"name":""})").status, 400);
  EXPECT_EQ(a.call("POST", "/api/v1/tokens", ada, R"({"name":"x","expires_in_days":0})").status,
            400);
  EXPECT_EQ(a.call("POST", "/api/v1/tokens", ada, "{not json").status, 400);
}

TEST(AccountRoutes, SettingsAreOneJsonObjectPerUser) {
  Api a;
  const std::string ada = a.add_user("u1", "ada@example.com", "");
  const std::string bob = a.add_user("u22", "bob@example.com", "");
  EXPECT_EQ(a.json(a.call("GET", "/api/v1/settings", ada))["settings"], Json::object());
  EXPECT_EQ(a.call("PUT", "/api/v1/settings", ada, R"({"settings":[1]})").status, 400);
  EXPECT_EQ(a.call("PUT", "/api/v1/settings", ada, R"({"settings":{"theme":"dark"}})").status, 200);
  EXPECT_EQ(a.call("PUT", "/api/v1/settings", ada, R"({"settings":{"model":"m2"}})").status, 200);
  EXPECT_EQ(a.json(a.call("GET", "/api/v1/settings", ada))["settings"], (Json{{"model", "m2"}}));
  EXPECT_EQ(a.json(a.call("GET", "/api/v1/settings", bob))["settings"], Json::object());
}

// Issue 15: settings nested 70,000 deep parsed, then overflowed the stack when copied, and the
// server died with every user on it.
TEST(AccountRoutes, DeeplyNestedSettingsAreRefusedAndTheServerKeepsServing) {
  Api a;
  const std::string ada = a.add_user("u1", "ada@example.com", "");
  // `levels` objects, one inside the other: {"a":{"a":…{}…}}.
  const auto nested = [](std::size_t levels) {
    std::string text;
    for (std::size_t i = 1; i < levels; ++i) text += "{\"a\":";
    text += "{}";
    text.append(levels - 1, '}');
    return text;
  };
  for (const std::string& deep :
       {"{\"settings\":" + nested(100'000) + "}",
        "{\"settings\":{\"a\":" + std::string(100'000, '[') + std::string(100'000, ']') + "}}"}) {
    const HttpResponse refused = a.call("PUT", "/api/v1/settings", ada, deep);
    EXPECT_EQ(refused.status, 400) << refused.body;
    const Json error = a.json(refused).value("error", Json::object());
    EXPECT_EQ(error.value("code", ""), "invalid_argument");
    const std::string message = error.value("message", "");
    EXPECT_EQ(message.rfind("the request body is not valid JSON: JSON nested deeper than 64 "
                            "levels at byte ",
                            0),
              0u)
        << message;
  }
  // {"settings": …} with 63 levels inside is 64 in all: the deepest body accepted, read back as
  // it was written.
  const HttpResponse deepest =
      a.call("PUT", "/api/v1/settings", ada, "{\"settings\":" + nested(63) + "}");
  EXPECT_EQ(deepest.status, 200) << deepest.body;
  const HttpResponse read = a.call("GET", "/api/v1/settings", ada);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(a.json(read)["settings"], Json::parse(nested(63)));
  const HttpResponse one_more =
      a.call("PUT", "/api/v1/settings", ada, "{\"settings\":" + nested(64) + "}");
  EXPECT_EQ(one_more.status, 400) << one_more.body;
  EXPECT_NE(one_more.body.find("at byte 327"), std::string::npos)
      << "the 65th '{' is 12 + 5 * 63 bytes in: " << one_more.body;
  // Still serving, and still this user's.
  EXPECT_EQ(a.call("PUT", "/api/v1/settings", ada, R"({"settings":{"theme":"dark"}})").status, 200);
  EXPECT_EQ(a.json(a.call("GET", "/api/v1/settings", ada))["settings"], (Json{{"theme", "dark"}}));
  EXPECT_EQ(a.call("GET", "/api/v1/me", ada).status, 200);
}

TEST(ProjectRoutes, ProjectsAndWorktreesBelongToOneUser) {
  Api a;
  const std::string ada = a.add_user("u1", "ada@example.com", "");
  const std::string bob = a.add_user("u22", "bob@example.com", "");
  const HttpResponse created =
      a.call("POST", "/api/v1/projects", ada, R"({"name":"reliant","path":"/src/reliant"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string project = a.json(created)["id"];
  const HttpResponse tree = a.call("POST", "/api/v1/projects/" + project + "/worktrees", ada,
                                   R"({"path":"/src/reliant-wt","branch":"feature"})");
  ASSERT_EQ(tree.status, 201) << tree.body;
  const std::string worktree = a.json(tree)["id"];

  const Json got = a.json(a.call("GET", "/api/v1/projects/" + project, ada));
  EXPECT_EQ(got["name"], "reliant");
  ASSERT_EQ(got["worktrees"].size(), 1u);
  EXPECT_EQ(got["worktrees"][0]["branch"], "feature");
  EXPECT_EQ(a.json(a.call("GET", "/api/v1/projects", ada))["projects"].size(), 1u);

  EXPECT_EQ(a.json(a.call("GET", "/api/v1/projects", bob))["projects"].size(), 0u);
  EXPECT_EQ(a.call("GET", "/api/v1/projects/" + project, bob).status, 404);
  EXPECT_EQ(
      a.call("POST", "/api/v1/projects/" + project + "/worktrees", bob, R"({"path":"/x"})").status,
      404);
  EXPECT_EQ(a.call("DELETE", "/api/v1/projects/" + project, bob).status, 404);
  EXPECT_EQ(a.call("POST", "/api/v1/projects", ada, R"({"name":""})").status, 400);
  EXPECT_EQ(a.call("POST", "/api/v1/projects", ada, R"({"name":"x","path":7})").status, 400);

  EXPECT_EQ(a.call("DELETE", "/api/v1/projects/" + project + "/worktrees/" + worktree, ada).status,
            200);
  EXPECT_EQ(a.call("DELETE", "/api/v1/projects/" + project, ada).status, 200);
  EXPECT_EQ(a.call("GET", "/api/v1/projects/" + project, ada).status, 404);
}

TEST(ApiRoutes, WorkflowsAreListedAndOthersRunsAreNotFound) {
  Api a;
  const std::string ada = a.add_user("u1", "ada@example.com", "");
  const Json workflows = a.json(a.call("GET", "/api/v1/workflows", ada));
  ASSERT_GE(workflows["workflows"].size(), 2u);
  EXPECT_EQ(workflows["workflows"][0]["name"], "agent");
  // The language's built-ins, each with the input schema a form is drawn from.
  const Json& agent = workflows["workflows"][1];
  EXPECT_EQ(agent["name"], "builtin://agent");
  bool has_mode = false;
  for (const auto& input : agent["inputs"]) {
    if (input["name"] == "mode") {
      has_mode = true;
      EXPECT_EQ(input["type"], "enum");
      EXPECT_EQ(input["enum"], (Json{"auto", "manual", "plan"}));
      EXPECT_EQ(input["default"], "auto");
    }
  }
  EXPECT_TRUE(has_mode) << agent.dump();
  // And the presets its runs take, for a picker: their tag and the one that applies unpicked.
  EXPECT_EQ(agent["presets"], (Json{{"tag", "agent"}, {"default", "general"}}));
  EXPECT_EQ(a.call("GET", "/api/v1/runs/nope/history", ada).status, 404);
  EXPECT_EQ(a.call("GET", "/api/v1/workflows").status, 401) << "signed in only";
}

TEST(ApiRoutes, ProjectWorkflowsAreValidatedStoredAndVersioned) {
  Api a;
  const std::string ada = a.add_user("u1", "ada@example.com", "");
  const std::string bob = a.add_user("u2", "bob@example.com", "");
  const std::string project =
      a.json(a.call("POST", "/api/v1/projects", ada, R"({"name":"web"})"))["id"];
  const std::string base = "/api/v1/projects/" + project + "/workflows";
  const auto body = [](const std::string& yaml) { return Json{{"source", yaml}}.dump(); };
  const std::string good =
      "name: lint\ninputs:\n  fix: {type: boolean, default: false}\nentry: run\nnodes:\n"
      "  - {id: run, type: run, command: make lint}\n";

  // Checked without storing: a mistake comes back at file:line:column.
  auto checked = a.call("POST", "/api/v1/workflows/validate", ada, body(good));
  EXPECT_EQ(checked.status, 200);
  EXPECT_EQ(a.json(checked)["name"], "lint");
  auto refused = a.call(
      "POST", "/api/v1/workflows/validate", ada,
      Json{{"source", "name: x\nentry: a\nnodes:\n  - {id: a, type: nope}\n"}, {"file", "x.yaml"}}
          .dump());
  ASSERT_EQ(refused.status, 400);
  const Json diagnostics = a.json(refused)["diagnostics"];
  ASSERT_FALSE(diagnostics.empty());
  EXPECT_EQ(diagnostics[0]["line"], 4);
  EXPECT_EQ(diagnostics[0]["text"].get<std::string>().rfind("x.yaml:4:", 0), 0u)
      << diagnostics.dump();

  // Created only when valid, once per name.
  EXPECT_EQ(a.call("POST", base, ada, body("name: broken\nentry: nowhere\nnodes: []\n")).status,
            400);
  auto created = a.call("POST", base, ada, body(good));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(a.json(created)["version"], 1);
  EXPECT_EQ(a.json(created)["inputs"][0]["name"], "fix");
  EXPECT_EQ(a.call("POST", base, ada, body(good)).status, 409);

  const Json listed = a.json(a.call("GET", base, ada));
  ASSERT_EQ(listed["workflows"].size(), 1u);
  EXPECT_EQ(listed["workflows"][0]["name"], "lint");
  EXPECT_FALSE(listed["workflows"][0].contains("source"));
  EXPECT_EQ(a.json(a.call("GET", base + "/lint", ada))["source"], good);

  // An update is validated too, keeps the name, and bumps the version.
  const std::string better = good + "  - {id: again, type: run, command: make lint}\n";
  EXPECT_EQ(a.call("PUT", base + "/lint", ada, body("name: lint\nentry: x\nnodes: []\n")).status,
            400);
  EXPECT_EQ(a.call("PUT", base + "/lint", ada,
                   body("name: other\nentry: a\nnodes:\n"
                        "  - {id: a, type: run, command: x}\n"))
                .status,
            400);
  auto updated = a.call("PUT", base + "/lint", ada, body(better));
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(a.json(updated)["version"], 2);
  EXPECT_EQ(a.call("PUT", base + "/nope", ada, body(good)).status, 400);

  // Another user's project is not found, whatever the verb.
  EXPECT_EQ(a.call("GET", base, bob).status, 404);
  EXPECT_EQ(a.call("GET", base + "/lint", bob).status, 404);
  EXPECT_EQ(a.call("POST", base, bob, body(good)).status, 404);
  EXPECT_EQ(a.call("DELETE", base + "/lint", bob).status, 404);

  EXPECT_EQ(a.call("DELETE", base + "/lint", ada).status, 200);
  EXPECT_EQ(a.call("GET", base + "/lint", ada).status, 404);
  // A project's workflows go with it.
  ASSERT_EQ(a.call("POST", base, ada, body(good)).status, 201);
  EXPECT_EQ(a.call("DELETE", "/api/v1/projects/" + project, ada).status, 200);
  EXPECT_EQ(a.call("GET", base, ada).status, 404);
}

// A stand-in for the daemon's `run` node: answers with the command it was given.
class EchoRunNode final : public engine::Activity {
 public:
  std::string_view name() const override { return "node.run"; }
  Task<Result<Json>> run(engine::ActivityContext&, Json input) override {
    co_return Json{
        {"exit_code", 0}, {"stdout", "ran " + input["args"].value("command", "")}, {"stderr", ""}};
  }
};

// The API with a worker running workflow-language runs.
struct ApiWithWorker : Api {
  engine::WorkflowRegistry workflows;
  engine::ActivityRegistry activities;
  std::unique_ptr<engine::Worker> worker;
  ApiWithWorker() {
    workflows.add(std::make_unique<workflow::EngineWorkflow>());
    activities.add(std::make_unique<EchoRunNode>());
    engine::WorkerConfig config;
    config.worker_id = "w1";
    worker = std::make_unique<engine::Worker>(env, config, workflows, activities);
  }
  ~ApiWithWorker() { worker.reset(); }
  // Steps virtual time until the run's status is `status` (a bounded number of steps).
  Json run_until(const std::string& token, const std::string& run_id, const std::string& status) {
    Json run;
    for (int i = 0; i < 200; ++i) {
      run = json(call("GET", "/api/v1/runs/" + run_id, token));
      if (run["status"] == status) return run;
      for (int step = 0; step < 50 && world.step(); ++step) {
      }
    }
    ADD_FAILURE() << "run " << run_id << " never became " << status << ": " << run.dump();
    return run;
  }
};

constexpr const char* kApproveThenShip = R"(name: ship
inputs:
  target: {type: string, default: all}
entry: approve
nodes:
  - {id: approve, type: approval, title: "Ship {{ inputs.target }}?"}
  - {id: ship, type: run, command: "make {{ inputs.target }}"}
edges:
  - from: approve
    cases:
      - {to: ship, condition: "nodes.approve.status == 'approved'"}
outputs:
  shipped: "{{ has(nodes.ship) ? nodes.ship.stdout : 'no' }}"
)";

TEST(ApiRoutes, WorkflowRunsStartAndWaitForTheirApproval) {
  ApiWithWorker a;
  const std::string ada = a.add_user("u1", "ada@example.com", "");
  const std::string bob = a.add_user("u2", "bob@example.com", "");
  const auto start = [&](Json body) {
    return a.call("POST", "/api/v1/workflows/runs", ada, body.dump());
  };

  // Refused before it starts: bad YAML at its place, inputs outside their types.
  auto bad = start(Json{{"source", "name: x\nentry: a\nnodes:\n  - {id: a, type: nope}\n"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_FALSE(a.json(bad)["diagnostics"].empty());
  EXPECT_EQ(start(Json{{"source", kApproveThenShip}, {"inputs", {{"target", 3}}}}).status, 400);
  EXPECT_EQ(start(Json{{"workflow", "builtin://nope"}}).status, 400);
  EXPECT_EQ(start(Json{{"workflow", "lint"}}).status, 400)
      << "a project workflow needs its project";

  auto started = start(Json{{"source", kApproveThenShip}, {"inputs", {{"target", "web"}}}});
  ASSERT_EQ(started.status, 201) << started.body;
  const std::string run_id = a.json(started)["run_id"];
  for (int step = 0; step < 500 && a.world.step(); ++step) {
  }
  // Another user's run is not found, whatever they send.
  EXPECT_EQ(a.call("POST", "/api/v1/runs/" + run_id + "/approve", bob, "{}").status, 404);
  EXPECT_EQ(a.call("GET", "/api/v1/runs/" + run_id, bob).status, 404);
  // An answer is for a question; this run waits for an approval.
  EXPECT_EQ(
      a.call("POST", "/api/v1/runs/" + run_id + "/answer", ada, R"({"answer": "yes"})").status,
      409);
  EXPECT_EQ(
      a.call("POST", "/api/v1/runs/" + run_id + "/approve", ada, R"({"node": "other"})").status,
      409);

  // The run shows the node that waits, with its evaluated args.
  const Json waiting = a.json(a.call("GET", "/api/v1/runs/" + run_id, ada));
  ASSERT_EQ(waiting["nodes"].size(), 1u) << waiting.dump();
  EXPECT_EQ(waiting["nodes"][0]["status"], "waiting");
  EXPECT_EQ(waiting["nodes"][0]["args"]["title"], "Ship web?");
  auto approved =
      a.call("POST", "/api/v1/runs/" + run_id + "/approve", ada, R"({"message": "go"})");
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(a.json(approved)["node"], "approve");
  const Json done = a.run_until(ada, run_id, "completed");
  EXPECT_EQ(done["result"]["outputs"]["shipped"], "ran make web") << done.dump();
  // Every node it reached, with its state: the command, and the approval's answer.
  ASSERT_EQ(done["nodes"].size(), 2u) << done.dump();
  EXPECT_EQ(done["nodes"][0]["key"], "ship");
  EXPECT_EQ(done["nodes"][0]["status"], "completed");
  EXPECT_EQ(done["nodes"][1]["key"], "approve");
  EXPECT_EQ(done["nodes"][1]["output"]["status"], "approved");
  // Once it has ended, nothing is waiting.
  EXPECT_EQ(a.call("POST", "/api/v1/runs/" + run_id + "/approve", ada, "{}").status, 409);

  // A denied approval takes no edge: the run completes without shipping.
  const std::string denied_id = a.json(start(Json{{"source", kApproveThenShip}}))["run_id"];
  for (int step = 0; step < 500 && a.world.step(); ++step) {
  }
  ASSERT_EQ(a.call("POST", "/api/v1/runs/" + denied_id + "/deny", ada, "{}").status, 200);
  EXPECT_EQ(a.run_until(ada, denied_id, "completed")["result"]["outputs"]["shipped"], "no");
}

}  // namespace
}  // namespace reliant::api
