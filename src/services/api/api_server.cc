// REST routes, PAT authentication and the SSE update stream.
#include "services/api/api_server.h"

#include "protocol/codec.h"

#include <limits>

#include <nlohmann/json.hpp>

#include "services/agent/plan_tools.h"
#include "services/api/api_support.h"
#include "services/api/command_feed.h"
#include "services/api/terminal_socket.h"
#include "services/storage/daemons.h"
#include "services/updates/user_events.h"
#include "services/updates/user_feed.h"

namespace reliant::api {
namespace {

namespace v1 = reliant::api::v1;

// A daemon as /api/v1/daemons lists it; a managed one carries `managed`, its
// ManagedDaemonState in protobuf's JSON mapping (as /api/v1/daemons/{daemon} shows it).
Json daemon_json(const v1::Daemon& d) {
  const auto time_or_null = [](std::int64_t ms) { return ms == 0 ? Json() : Json(ms); };
  Json out = {{"id", d.id()},
              {"name", d.name()},
              {"type", d.type()},
              {"labels", Json::object()},
              {"hostname", d.hostname()},
              {"platform", d.platform()},
              {"working_dir", d.working_dir()},
              {"version", d.version()},
              {"status", d.status()},
              {"last_heartbeat_at_ms", time_or_null(d.last_heartbeat_at_ms())},
              {"connected_at_ms", time_or_null(d.connected_at_ms())}};
  for (const auto& [key, value] : d.labels()) out["labels"][key] = value;
  if (d.has_managed()) out["managed"] = Json::parse(protocol::to_json(d.managed()));
  return out;
}

// The SSE body: `id:` is the update's number (absent for previews), `event:` its kind.
std::string sse_frame(const updates::UserEvent& event) {
  std::string frame;
  if (event.seq > 0) frame += "id: " + std::to_string(event.seq) + "\n";
  frame += "event: " + event.kind + "\n";
  frame += "data: " + updates::to_json(event).dump() + "\n\n";
  return frame;
}

class UpdateStream final : public HttpBodyStream {
 public:
  UpdateStream(std::unique_ptr<updates::UserFeed> feed, std::unique_ptr<CredentialWatch> watch,
               Duration keepalive, std::uint64_t* open)
      : feed_(std::move(feed)), watch_(std::move(watch)), keepalive_(keepalive), open_(open) {
    ++*open_;
  }
  ~UpdateStream() override { --*open_; }

  Task<void> run(HttpBodyWriter& out) override {
    // The first bytes tell the client the stream is live (and where it starts).
    Task<bool> hello = out.write(": stream from " + std::to_string(feed_->position()) + "\n\n");
    if (!co_await hello) co_return;
    for (;;) {
      Task<Result<std::vector<updates::UserEvent>>> next = feed_->next(keepalive_);
      auto batch = co_await next;
      if (watch_->ended()) {
        // The token that opened the stream was revoked or expired: nothing more for it.
        Task<bool> last =
            out.write(": the credential of this stream was " + watch_->why() + "\n\n");
        (void)co_await last;
        co_return;
      }
      if (!batch && batch.error().code == ErrorCode::resource_exhausted) {
        // The client fell behind (or the server's update budget made this stream give up): end
        // the stream, and with it what waited for the client. It reconnects with Last-Event-ID
        // and reads the rest from the store.
        Task<bool> last = out.write(": " + batch.error().message + "\n\n");
        (void)co_await last;
        co_return;
      }
      if (!batch && feed_->gone()) {
        // Updates the client had still to read were pruned: it must read the state afresh and
        // follow from the head. An event of its own kind, which an EventSource can listen for.
        Task<bool> last =
            out.write("event: resync\ndata: " +
                      Json{{"kind", "resync"}, {"error", batch.error().message}}.dump() + "\n\n");
        (void)co_await last;
        co_return;
      }
      if (!batch || batch->empty()) {
        Task<bool> writing =
            out.write(!batch ? ": store unavailable, retrying\n\n" : ": keepalive\n\n");
        if (!co_await writing) co_return;  // the client went away
        continue;
      }
      // The batch goes out in pieces of at most kPieceBytes, what is left of it counted against
      // the server's update budget: a client that stops reading holds one piece in the
      // connection, and the rest goes when the budget asks this stream to give up.
      std::vector<std::string> frames;
      std::vector<std::int64_t> seqs;  // each frame's stored number (0: a preview)
      std::size_t left_bytes = 0;
      for (const auto& event : *batch) {
        frames.push_back(sse_frame(event));
        seqs.push_back(event.seq);
        left_bytes += frames.back().size();
      }
      batch->clear();
      std::size_t frame = 0;
      while (frame < frames.size()) {
        std::int64_t last_seq = seqs[frame];
        std::string piece = std::move(frames[frame++]);
        while (frame < frames.size() && piece.size() + frames[frame].size() <= kPieceBytes) {
          piece += frames[frame];
          frames[frame].clear();
          last_seq = std::max(last_seq, seqs[frame++]);
        }
        left_bytes -= piece.size();
        feed_->holding(left_bytes + piece.size());
        Task<bool> writing = out.write(std::move(piece));
        if (!co_await writing) co_return;  // the client went away
        feed_->delivered(last_seq);
        if (feed_->overflowed()) break;  // the next() below says why, and ends the stream
      }
    }
  }

  static constexpr std::size_t kPieceBytes = 64u << 10;

 private:
  std::unique_ptr<updates::UserFeed> feed_;
  std::unique_ptr<CredentialWatch> watch_;  // after feed_: destroyed first (it points at it)
  Duration keepalive_;
  std::uint64_t* open_;
};

}  // namespace

int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument:
      return 400;
    case ErrorCode::unauthenticated:
      return 401;
    case ErrorCode::permission_denied:
      return 403;
    case ErrorCode::not_found:
      return 404;
    case ErrorCode::already_exists:
    case ErrorCode::failed_precondition:
      return 409;
    case ErrorCode::resource_exhausted:
      return 413;
    case ErrorCode::cancelled:
      return 499;
    case ErrorCode::unavailable:
    case ErrorCode::no_responders:
    case ErrorCode::closed:
      return 503;
    case ErrorCode::timeout:
      return 504;
    case ErrorCode::outcome_unknown:
    case ErrorCode::internal:
      return 500;
    case ErrorCode::unimplemented:
      return 501;
  }
  return 500;
}

HttpResponse error_response(const Error& error) {
  const std::string shown = client_message(error);
  HttpResponse response = json_response(
      http_status(error.code),
      {{"error", {{"code", std::string(to_string(error.code))}, {"message", shown}}}});
  // A database's own text (a constraint's name, SQL) or an internal failure's detail is for the
  // operator: the server logs it, the client gets a sentence for the kind of failure.
  if (shown != error.message) response.log_note = error.describe();
  return response;
}

ApiServer::ApiServer(Env& env, ApiConfig config, OnAuthenticated on_authenticated)
    : env_(env),
      config_(std::move(config)),
      on_authenticated_(std::move(on_authenticated)),
      chats_(env, config_.chats),
      accounts_(env, config_.secrets, config_.secrets_key),
      projects_(env),
      presets_(env),
      daemons_(env, config_.daemons),
      managed_daemons_(env, config_.managed_daemons),
      workflows_(env, config_.workflows, config_.chats.queue, config_.time_zones),
      triggers_(env, TriggerRoutesConfig{config_.chats.queue, config_.chats.default_model,
                                         config_.time_zones, config_.secrets, config_.secrets_key}),
      watches_(env, config_.credential_recheck),
      routes_(routes()),
      update_budget_(config_.update_budget != nullptr
                         ? config_.update_budget
                         : std::make_shared<updates::UpdateBudget>(kUpdateBudgetBytes)) {
  if (config_.passwords != nullptr && config_.secrets != nullptr)
    login_.emplace(env, *config_.passwords, *config_.secrets);
  if (config_.secrets != nullptr) {
    sessions_.emplace(env, *config_.secrets, login_ ? &*login_ : nullptr, config_.local_sign_in,
                      BrowserSessionOptions{config_.secure_cookies});
  }
}

Task<Result<Credential>> ApiServer::authenticate(const HttpRequest& request) {
  const std::string header = request.header("authorization");
  std::string token = bearer_token(header);
  // A browser's session cookie (never a token in the URL): a request it authenticates that
  // changes something must also carry the session's CSRF token.
  if (header.empty()) {
    token = session_cookie(request);
    if (!token.empty() && !csrf_ok(request, token)) {
      co_return fail(ErrorCode::permission_denied,
                     "missing or wrong X-CSRF-Token: a signed-in browser sends the one GET "
                     "/api/v1/auth/session gives");
    }
  }
  Task<Result<Credential>> checking =
      api::authenticate_credential(env_, config_.jwt, std::move(token));
  co_return co_await checking;
}

Task<HttpResponse> ApiServer::handle(HttpRequest request) {
  Task<HttpResponse> serving = serve(std::move(request));
  HttpResponse response = co_await serving;
  // Answers carry credentials, tokens and users' data: no cache keeps them (a shared one would
  // hand them to the next client), and no browser reads JSON as anything else. The web app's
  // files say how they are cached themselves.
  bool has_cache_control = false;
  bool has_nosniff = false;
  for (const auto& [name, value] : response.headers) {
    has_cache_control = has_cache_control || header_name_is(name, "cache-control");
    has_nosniff = has_nosniff || header_name_is(name, "x-content-type-options");
  }
  if (!has_cache_control) response.headers.emplace_back("Cache-Control", "no-store");
  if (!has_nosniff) response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  co_return response;
}

Task<HttpResponse> ApiServer::serve(HttpRequest request) {
  ++stats_.requests;
  if (request.path == "/health" || request.path == "/api/v1/health") {
    co_return json_response(200, {{"status", "ok"}});
  }
  if (TriggerRoutes::is_webhook(request)) {
    // Its own credential (a token or a signature) and its own body limit (413 above it).
    Task<HttpResponse> delivering = triggers_.deliver(std::move(request));
    co_return co_await delivering;
  }
  if (request.body.size() > config_.body_bytes_max) {
    co_return error_response(
        {ErrorCode::resource_exhausted,
         "request body exceeds " + std::to_string(config_.body_bytes_max) + " bytes"});
  }
  if (config_.connect != nullptr && ConnectRpc::handles(request)) {
    Task<HttpResponse> calling = config_.connect->handle(std::move(request));
    co_return co_await calling;
  }
  if (BrowserSessions::handles(request)) {
    if (!sessions_) {
      co_return error_response({ErrorCode::not_found, "browser sign-in is not enabled here"});
    }
    const std::function<void()> mark = request.authenticated;
    const bool signing_out = request.method == "DELETE";
    Task<HttpResponse> signing_in = sessions_->handle(std::move(request));
    HttpResponse response = co_await signing_in;
    // A session shown or started: the request carried a valid cookie or password.
    if (response.status == 200 && !signing_out && mark) mark();
    co_return response;
  }
  if (config_.web != nullptr) {
    if (std::optional<HttpResponse> page = serve_web(*config_.web, request)) co_return *page;
  }
  if (CliLogin::handles(request)) {
    if (!login_) {
      co_return error_response(
          {ErrorCode::not_found, "browser sign-in is not enabled on this server: use a token"});
    }
    Task<HttpResponse> signing_in = login_->handle(std::move(request));
    co_return co_await signing_in;
  }
  if (is_command_feed(request)) {
    Task<HttpResponse> feeding =
        serve_command_feed(managed_daemons_.commands(), std::move(request));
    co_return co_await feeding;
  }
  if (request.path == kTerminalSocketPath) {
    Task<HttpResponse> opening = open_terminal_socket(std::move(request));
    co_return co_await opening;
  }
  Task<Result<Credential>> authenticating = admit(request);
  Result<Credential> credential = co_await authenticating;
  if (!credential) co_return error_response(credential.error());
  Task<HttpResponse> routing = route(std::move(request), std::move(*credential));
  co_return co_await routing;
}

Task<Result<Credential>> ApiServer::admit(const HttpRequest& request) {
  Task<Result<Credential>> authenticating = authenticate(request);
  Result<Credential> credential = co_await authenticating;
  if (credential) request.mark_authenticated();
  if (credential && on_authenticated_) {
    Task<Result<void>> hook = on_authenticated_(credential->user_id);
    Result<void> ready = co_await hook;
    if (!ready) co_return fail(ready.error());
  }
  co_return credential;
}

Task<Result<Credential>> ApiServer::authenticate_token(std::string token,
                                                       std::function<void()> authenticated) {
  HttpRequest request;
  request.path = std::string(kTerminalSocketPath);
  request.headers["authorization"] = "Bearer " + token;
  request.authenticated = std::move(authenticated);
  Task<Result<Credential>> admitting = admit(request);
  co_return co_await admitting;
}

Task<HttpResponse> ApiServer::open_terminal_socket(HttpRequest request) {
  if (request.method != "GET") {
    co_return error_response(
        {ErrorCode::not_found, "no route " + request.method + " " + request.path});
  }
  if (config_.daemons == nullptr) {
    co_return error_response(
        {ErrorCode::unavailable, "this server reaches no daemon (it has no daemon router)"});
  }
  // A client that can set headers authenticates with the upgrade; a browser, in its first
  // message (a token never goes in the URL).
  std::optional<Credential> credential;
  if (!request.header("authorization").empty()) {
    Task<Result<Credential>> checking =
        authenticate_token(bearer_token(request.header("authorization")), request.authenticated);
    Result<Credential> checked = co_await checking;
    if (!checked) co_return error_response(checked.error());
    credential = std::move(*checked);
  } else if (const std::string cookie = session_cookie(request); !cookie.empty()) {
    // A browser's session: only from a page of this origin (another site's page could open a
    // WebSocket with the user's cookie — cross-site WebSocket hijacking).
    const std::string origin = request.header("origin");
    const std::string host = request.header("host");
    if (origin.empty() || (origin != "https://" + host && origin != "http://" + host)) {
      co_return error_response({ErrorCode::permission_denied,
                                "a terminal opened with a session cookie must come "
                                "from a page of this server (Origin " +
                                    origin + ")"});
    }
    Task<Result<Credential>> checking = authenticate_token(cookie, request.authenticated);
    Result<Credential> checked = co_await checking;
    if (!checked) co_return error_response(checked.error());
    credential = std::move(*checked);
  }
  HttpResponse response;
  response.websocket = std::make_shared<TerminalSocket>(
      env_, *config_.daemons, watches_,
      // The credential of the socket's first message authenticates its connection too.
      [this, mark = request.authenticated](std::string token) {
        return authenticate_token(std::move(token), mark);
      },
      std::move(credential));
  co_return response;
}

ApiServer::RouteTable ApiServer::routes() {
  RouteTable table;
  table.add("GET", "/api/v1/me", &ApiServer::get_me)
      .add("GET", "/api/v1/updates", &ApiServer::get_updates)
      .add("GET", "/api/v1/updates/head", &ApiServer::get_updates_head)
      .add("GET", "/api/v1/daemons", &ApiServer::get_daemons)
      .add("GET", "/api/v1/models", &ApiServer::get_models)
      // Managed daemons (ManagedDaemonCalls checks the exact paths), then a daemon's services.
      .add("POST", "/api/v1/daemons", &ApiServer::to_routes<&ApiServer::managed_daemons_>)
      .add("*", "/api/v1/daemons/{daemon}", &ApiServer::to_routes<&ApiServer::managed_daemons_>)
      .add("POST", "/api/v1/daemons/{daemon}/suspend",
           &ApiServer::to_routes<&ApiServer::managed_daemons_>)
      .add("POST", "/api/v1/daemons/{daemon}/resume",
           &ApiServer::to_routes<&ApiServer::managed_daemons_>)
      .add("*", "/api/v1/daemons/{daemon}/commands",
           &ApiServer::to_routes<&ApiServer::managed_daemons_>)
      .add("GET", "/api/v1/daemons/{daemon}/commands/{command}",
           &ApiServer::to_routes<&ApiServer::managed_daemons_>)
      .add("*", "/api/v1/daemons/{daemon}/{what}/**", &ApiServer::to_routes<&ApiServer::daemons_>)
      // Definitions, runs' starts and answers (WorkflowRoutes checks the exact paths).
      .add("*", "/api/v1/workflows/**", &ApiServer::to_routes<&ApiServer::workflows_>)
      .add("*", "/api/v1/projects/{project}/workflows/**",
           &ApiServer::to_routes<&ApiServer::workflows_>)
      .add("POST", "/api/v1/runs/{run}/{action}", &ApiServer::to_routes<&ApiServer::workflows_>)
      .add("GET", "/api/v1/runs/{run}/events", &ApiServer::to_routes<&ApiServer::workflows_>)
      .add("GET", "/api/v1/runs/{run}", &ApiServer::get_run)
      .add("GET", "/api/v1/runs/{run}/history", &ApiServer::get_run_history)
      .add("*", "/api/v1/triggers", &ApiServer::to_routes<&ApiServer::triggers_>)
      .add("*", "/api/v1/triggers/**", &ApiServer::to_routes<&ApiServer::triggers_>)
      .add("*", "/api/v1/tokens/**", &ApiServer::to_routes<&ApiServer::accounts_>)
      .add("*", "/api/v1/settings/**", &ApiServer::to_routes<&ApiServer::accounts_>)
      .add("*", "/api/v1/projects/**", &ApiServer::to_routes<&ApiServer::projects_>)
      .add("*", "/api/v1/presets", &ApiServer::to_routes<&ApiServer::presets_>)
      .add("*", "/api/v1/presets/{name}", &ApiServer::to_routes<&ApiServer::presets_>)
      .add("POST", "/api/v1/chats", &ApiServer::create_chat)
      .add("GET", "/api/v1/chats", &ApiServer::list_chats)
      .add("GET", "/api/v1/chats/{chat}", &ApiServer::get_chat)
      .add("PATCH", "/api/v1/chats/{chat}", &ApiServer::rename_chat)
      .add("POST", "/api/v1/chats/{chat}/messages", &ApiServer::send_message)
      .add("GET", "/api/v1/chats/{chat}/plan", &ApiServer::get_plan)
      .add("POST", "/api/v1/chats/{chat}/cancel", &ApiServer::cancel_chat)
      .add("PUT", "/api/v1/chats/{chat}/daemon", &ApiServer::set_chat_daemon)
      .add("DELETE", "/api/v1/chats/{chat}/daemon", &ApiServer::set_chat_daemon);
  return table;
}

Task<HttpResponse> ApiServer::route(HttpRequest request, Credential credential) {
  Call call{std::move(request), std::move(credential), {}, {}};
  call.parts = path_segments(call.request.path);
  const Route* handler = routes_.find(call.request.method, call.parts, call.params);
  if (handler == nullptr) co_return not_found(call.request);
  Task<HttpResponse> serving = (this->**handler)(call);
  co_return co_await serving;
}

HttpResponse ApiServer::not_found(const HttpRequest& request) {
  return error_response({ErrorCode::not_found, "no route " + request.method + " " + request.path});
}

Task<HttpResponse> ApiServer::or_not_found(Task<std::optional<HttpResponse>> serving,
                                           const HttpRequest& request) {
  std::optional<HttpResponse> served = co_await serving;
  co_return served ? std::move(*served) : not_found(request);
}

Task<HttpResponse> ApiServer::get_me(Call& call) {
  co_return json_response(200, {{"user_id", call.credential.user_id}});
}

// The catalogue's models as clients choose among them: never a provider's key or address.
Task<HttpResponse> ApiServer::get_models(Call&) {
  Json models = Json::array();
  if (config_.models != nullptr) {
    for (const auto& model : config_.models->models) {
      const agent::ProviderSpec* provider = config_.models->provider(model.provider);
      models.push_back({{"name", model.name},
                        {"provider", model.provider},
                        {"provider_kind", provider ? agent::to_string(provider->kind) : ""},
                        {"tags", model.tags},
                        {"context_tokens", model.context_tokens},
                        {"output_tokens_max", model.output_tokens_max},
                        {"thinking", model.thinking},
                        {"prices",
                         {{"input_per_mtok", model.input_usd_per_mtok},
                          {"output_per_mtok", model.output_usd_per_mtok}}}});
    }
  }
  co_return json_response(
      200, {{"default", config_.models ? config_.models->default_model : ""}, {"models", models}});
}

Task<HttpResponse> ApiServer::get_updates(Call& call) {
  co_return open_stream(call.request, call.credential);
}

// The newest update's number: where a page that just loaded its state starts following.
Task<HttpResponse> ApiServer::get_updates_head(Call& call) {
  JsonTransactionBody head = [user_id =
                                  call.credential.user_id](SqlTransaction& tx) -> Result<Json> {
    auto seq = updates::user_event_head(tx, user_id);
    if (!seq) return fail(seq.error());
    return Json{{"seq", *seq}};
  };
  Task<HttpResponse> reading = transact_and_respond(env_, std::move(head), 200);
  co_return co_await reading;
}

Task<HttpResponse> ApiServer::get_daemons(Call& call) {
  Task<HttpResponse> listing = list_daemons(call.credential.user_id);
  co_return co_await listing;
}

Task<HttpResponse> ApiServer::get_run(Call& call) {
  Task<HttpResponse> getting = run_view(call.credential.user_id, call.params["run"], false);
  co_return co_await getting;
}

Task<HttpResponse> ApiServer::get_run_history(Call& call) {
  Task<HttpResponse> getting = run_view(call.credential.user_id, call.params["run"], true);
  co_return co_await getting;
}

Task<HttpResponse> ApiServer::create_chat(Call& call) {
  auto body = parse_json_body(call.request);
  if (!body) co_return error_response(body.error());
  if (body->contains("title") && !(*body)["title"].is_string()) {
    co_return error_response({ErrorCode::invalid_argument, "\"title\" must be a string"});
  }
  // What the chat runs for each message: a workflow (builtin://NAME, or a project's by name),
  // its inputs and the project.
  agent::ChatWorkflow workflow;
  for (const char* field : {"workflow", "project_id"}) {
    if (body->contains(field) && !(*body)[field].is_string()) {
      co_return error_response(
          {ErrorCode::invalid_argument, std::string("\"") + field + "\" must be a string"});
    }
  }
  if (body->contains("inputs") && !(*body)["inputs"].is_object()) {
    co_return error_response({ErrorCode::invalid_argument, "\"inputs\" must be a map"});
  }
  workflow.workflow = body->value("workflow", "builtin://agent");
  workflow.inputs = body->value("inputs", Json::object());
  workflow.project_id = body->value("project_id", "");
  // The presets its runs apply: a name, or {group: name}.
  if (body->contains("presets")) workflow.presets = (*body)["presets"];
  Task<Result<ChatRecord>> creating =
      chats_.create_chat(call.credential.user_id, body->value("title", ""), std::move(workflow));
  Result<ChatRecord> chat = co_await creating;
  if (!chat) co_return error_response(chat.error());
  co_return json_response(201, to_json(*chat));
}

Task<HttpResponse> ApiServer::list_chats(Call& call) {
  Task<Result<std::vector<ChatRecord>>> listing = chats_.list_chats(call.credential.user_id);
  Result<std::vector<ChatRecord>> chats = co_await listing;
  if (!chats) co_return error_response(chats.error());
  Json out = Json::array();
  for (const auto& chat : *chats) out.push_back(to_json(chat));
  co_return json_response(200, {{"chats", out}});
}

// ?limit=N&after=ORDINAL or &before=ORDINAL: one page of messages, oldest first.
Task<HttpResponse> ApiServer::get_chat(Call& call) {
  std::int64_t numbers[3] = {0, 0, 0};
  const char* names[3] = {"limit", "after", "before"};
  for (int i = 0; i < 3; ++i) {
    auto it = call.request.query.find(names[i]);
    if (it == call.request.query.end()) continue;
    auto value = parse_seq(it->second, names[i]);
    if (!value) co_return error_response(value.error());
    numbers[i] = *value;
  }
  auto page = message_page_query(numbers[0], numbers[1], numbers[2]);
  if (!page) co_return error_response(page.error());
  const bool backwards = page->before_ordinal.has_value();
  Task<Result<agent::ChatView>> getting =
      chats_.get_chat(call.credential.user_id, call.params["chat"], *page);
  Result<agent::ChatView> view = co_await getting;
  if (!view) co_return error_response(view.error());
  Json messages = Json::array();
  for (const auto& message : view->messages) messages.push_back(to_json(message));
  Json out = to_json(view->chat);
  out["messages"] = messages;
  out["has_more"] = view->has_more;
  // The cursor of the next page in the same direction.
  if (view->has_more && !view->messages.empty()) {
    if (backwards) {
      out["next_before"] = view->messages.front().ordinal;
    } else {
      out["next_after"] = view->messages.back().ordinal;
    }
  }
  co_return json_response(200, out);
}

// {"title": T}: renames the chat; answers the chat as it is now.
Task<HttpResponse> ApiServer::rename_chat(Call& call) {
  auto body = parse_json_body(call.request);
  if (!body) co_return error_response(body.error());
  if (!body->is_object() || !(*body)["title"].is_string()) {
    co_return error_response({ErrorCode::invalid_argument, "\"title\" must be a string"});
  }
  Task<Result<ChatRecord>> renaming =
      chats_.rename_chat(call.credential.user_id, call.params["chat"], (*body)["title"]);
  Result<ChatRecord> chat = co_await renaming;
  if (!chat) co_return error_response(chat.error());
  co_return json_response(200, to_json(*chat));
}

Task<HttpResponse> ApiServer::send_message(Call& call) {
  auto body = parse_json_body(call.request);
  if (!body) co_return error_response(body.error());
  const Json& text = (*body)["text"];
  if (!text.is_string())
    co_return error_response({ErrorCode::invalid_argument, "\"text\" must be a string"});
  agent::SendOptions options;
  if (body->contains("model")) {
    if (!(*body)["model"].is_string()) {
      co_return error_response({ErrorCode::invalid_argument, "\"model\" must be a string"});
    }
    options.model = (*body)["model"];
  }
  if (body->contains("daemon")) options.daemon = (*body)["daemon"];
  // This message only: another workflow, inputs over the chat's, builtin://agent's mode.
  for (auto [field, into] :
       {std::pair{"mode", &options.mode}, std::pair{"workflow", &options.workflow}}) {
    if (!body->contains(field)) continue;
    if (!(*body)[field].is_string()) {
      co_return error_response(
          {ErrorCode::invalid_argument, std::string("\"") + field + "\" must be a string"});
    }
    *into = (*body)[field].get<std::string>();
  }
  if (body->contains("inputs")) {
    if (!(*body)["inputs"].is_object()) {
      co_return error_response({ErrorCode::invalid_argument, "\"inputs\" must be a map"});
    }
    options.inputs = (*body)["inputs"];
  }
  if (body->contains("presets")) options.presets = (*body)["presets"];
  if (body->contains("max_turns")) {
    const Json& turns = (*body)["max_turns"];
    if (!turns.is_number_integer()) {
      co_return error_response({ErrorCode::invalid_argument, "\"max_turns\" must be an integer"});
    }
    // Read as a signed number, one past its range would wrap to a negative one.
    if (turns.is_number_unsigned() &&
        turns.get<std::uint64_t>() > std::uint64_t{std::numeric_limits<std::int64_t>::max()}) {
      co_return error_response(
          {ErrorCode::invalid_argument, "\"max_turns\" " + turns.dump() + " is too large"});
    }
    options.turns_max = turns.get<std::int64_t>();
  }
  Task<Result<agent::SentMessage>> sending =
      chats_.send_message(call.credential.user_id, call.params["chat"], text, std::move(options));
  Result<agent::SentMessage> sent = co_await sending;
  if (!sent) co_return error_response(sent.error());
  co_return json_response(
      202, {{"message_id", sent->message_id}, {"run_id", sent->run_id}, {"seq", sent->seq}});
}

Task<HttpResponse> ApiServer::get_plan(Call& call) {
  Task<Result<std::optional<ChatPlanRecord>>> reading =
      chats_.get_plan(call.credential.user_id, call.params["chat"]);
  Result<std::optional<ChatPlanRecord>> plan = co_await reading;
  if (!plan) co_return error_response(plan.error());
  if (!*plan) co_return json_response(200, {{"plan", nullptr}, {"version", 0}});
  co_return json_response(200, {{"plan", (*plan)->plan},
                                {"version", (*plan)->version},
                                {"text", agent::render_plan((*plan)->plan)},
                                {"updated_at_ms", (*plan)->updated_at_ms}});
}

Task<HttpResponse> ApiServer::cancel_chat(Call& call) {
  Task<Result<void>> cancelling = chats_.cancel(call.credential.user_id, call.params["chat"]);
  Result<void> cancelled = co_await cancelling;
  if (!cancelled) co_return error_response(cancelled.error());
  co_return json_response(200, {{"status", "cancelled"}});
}

// PUT sets the chat's session daemon, DELETE clears it.
Task<HttpResponse> ApiServer::set_chat_daemon(Call& call) {
  std::string daemon_id;
  if (call.request.method == "PUT") {
    auto body = parse_json_body(call.request);
    if (!body) co_return error_response(body.error());
    if (!(*body)["daemon_id"].is_string()) {
      co_return error_response({ErrorCode::invalid_argument, "\"daemon_id\" must be a string"});
    }
    daemon_id = (*body)["daemon_id"];
  }
  Task<Result<void>> setting =
      chats_.set_session_daemon(call.credential.user_id, call.params["chat"], daemon_id);
  Result<void> set = co_await setting;
  if (!set) co_return error_response(set.error());
  co_return json_response(200, {{"active_daemon_id", daemon_id}});
}

Task<HttpResponse> ApiServer::list_daemons(std::string user_id) {
  Task<Result<v1::ListDaemonsResponse>> reading =
      managed_daemons_.service().list(std::move(user_id));
  Result<v1::ListDaemonsResponse> daemons = co_await reading;
  if (!daemons) co_return error_response(daemons.error());
  Json out = Json::array();
  for (const auto& daemon : daemons->daemons()) out.push_back(daemon_json(daemon));
  co_return json_response(200, {{"daemons", out}});
}

Task<HttpResponse> ApiServer::run_view(std::string user_id, std::string run_id, bool history) {
  Task<Result<Json>> reading = workflows_.get_run(std::move(user_id), std::move(run_id), history);
  Result<Json> run = co_await reading;
  if (!run) co_return error_response(run.error());
  co_return json_response(200, *run);
}

HttpResponse ApiServer::open_stream(const HttpRequest& request, const Credential& credential) {
  // Resume point: ?since_seq=N, or the browser's Last-Event-ID after a reconnect.
  const std::string since_text = request.query.count("since_seq") ? request.query.at("since_seq")
                                                                  : request.header("last-event-id");
  auto since = parse_seq(since_text, "since_seq");
  if (!since) return error_response(since.error());
  updates::FeedOptions options;
  options.budget = update_budget_;
  options.announcements = config_.announcements;
  options.user_id = credential.user_id;
  options.since_seq = *since;
  if (request.query.count("chat_id")) options.chat_id = request.query.at("chat_id");
  options.previews = !request.query.count("previews") || request.query.at("previews") != "false";
  auto feed = updates::UserFeed::open(env_, options);
  if (!feed) return error_response(feed.error());
  updates::UserFeed* raw_feed = feed->get();
  auto watch = watches_.watch(credential, [raw_feed] { raw_feed->interrupt(); });
  if (!watch) return error_response(watch.error());
  HttpResponse response;
  response.content_type = "text/event-stream";
  response.stream = std::make_shared<UpdateStream>(std::move(*feed), std::move(*watch),
                                                   config_.stream_keepalive, &stats_.streams_open);
  return response;
}

}  // namespace reliant::api
