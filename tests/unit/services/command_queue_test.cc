// The Commands protocol on the monolith's stack: a user queues a command over REST or gRPC for a
// managed daemon with commands enabled; the daemon, with its token, takes it from the feed and
// reports; the command is handed out again only once its lease ran out, and fails after too
// many deliveries. Refused with a clear error: a daemon without commands, a local daemon,
// another user's daemon, an unknown command, bad args, a wrong token.
#include <gtest/gtest.h>

#include "core/queued_command.h"
#include "services/control_plane/command_queue.h"
#include "services/storage/daemon_commands.h"
#include "unit/services/managed_api.h"

namespace reliant::agent {
namespace {

using Json = nlohmann::json;
namespace v1 = reliant::api::v1;

struct Commands : ManagedApi {
  std::string daemon_id;
  std::string token;

  // A managed daemon `name`, with commands or without, whose control plane handed it `token`.
  std::string create(const std::string& name, bool commands) {
    HttpResponse created = call(
        "POST", "/api/v1/daemons",
        Json{{"name", name}, {"permissions", "execution"}, {"commandsEnabled", commands}}.dump());
    EXPECT_EQ(created.status, 201) << created.body;
    return json(created)["daemon"]["id"];
  }
  void hand_token(const std::string& id) {
    std::array<std::uint8_t, kCommandTokenRandomBytes> bytes{};
    bytes.fill(7);
    token = format_command_token(id, bytes);
    auto stored = m.database.database().transact([&](SqlTransaction& tx) {
      return set_commands_token_hash(tx, id, hash_command_token(token));
    });
    ASSERT_TRUE(stored.has_value());
  }
  HttpResponse feed(const std::string& method, const std::string& path, std::string body = "",
                    std::string with = "") {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.query["wait_s"] = "0";
    request.headers["authorization"] = "Bearer " + (with.empty() ? token : with);
    request.body = std::move(body);
    return m.run(rest->handle(std::move(request)));
  }
  Json command(const std::string& id) {
    HttpResponse read = call("GET", "/api/v1/daemons/" + daemon_id + "/commands/" + id);
    EXPECT_EQ(read.status, 200) << read.body;
    return json(read)["command"];
  }
};

TEST(CommandQueue, ACommandIsHandedToItsDaemonWhichReportsHowItEnded) {
  Commands c;
  c.daemon_id = c.create("worker", true);
  c.hand_token(c.daemon_id);
  HttpResponse sent =
      c.call("POST", "/api/v1/daemons/worker/commands",
             R"({"name":"run_tool","args":{"tool":"bash","input":{"command":"ls"}}})");
  ASSERT_EQ(sent.status, 201) << sent.body;
  const Json queued = c.json(sent)["command"];
  EXPECT_EQ(queued["state"], "queued");
  EXPECT_EQ(queued["daemon_id"], c.daemon_id);

  HttpResponse next = c.feed("GET", "/api/v1/daemon-commands/next");
  ASSERT_EQ(next.status, 200) << next.body;
  const Json handed = c.json(next)["command"];
  EXPECT_EQ(handed["id"], queued["id"]);
  EXPECT_EQ(handed["name"], "run_tool");
  EXPECT_EQ(handed["args"]["input"]["command"], "ls");
  EXPECT_EQ(c.command(queued["id"])["state"], "delivered");
  EXPECT_EQ(c.feed("GET", "/api/v1/daemon-commands/next").status, 204)
      << "a delivered command is the daemon's until its lease runs out";

  const std::string result_path =
      "/api/v1/daemon-commands/" + queued["id"].get<std::string>() + "/result";
  HttpResponse reported = c.feed("POST", result_path, R"({"ok":true,"result":{"content":"a\n"}})");
  ASSERT_EQ(reported.status, 200) << reported.body;
  EXPECT_EQ(c.json(reported)["recorded"], true);
  const Json done = c.command(queued["id"]);
  EXPECT_EQ(done["state"], "succeeded");
  EXPECT_EQ(done["result"]["content"], "a\n");
  EXPECT_EQ(done["deliveries"], 1);
  // A repeated report changes nothing.
  HttpResponse again = c.feed("POST", result_path, R"({"ok":false,"error":"late"})");
  EXPECT_EQ(c.json(again)["recorded"], false);
  EXPECT_EQ(c.command(queued["id"])["state"], "succeeded");

  const Json listed = c.json(c.call("GET", "/api/v1/daemons/worker/commands"))["commands"];
  ASSERT_EQ(listed.size(), 1u);
}

TEST(CommandQueue, AnUnansweredCommandIsHandedOutAgainAfterItsLeaseThenFails) {
  Commands c;
  c.daemon_id = c.create("worker", true);
  c.hand_token(c.daemon_id);
  HttpResponse sent = c.call("POST", "/api/v1/daemons/worker/commands", R"({"name":"reload"})");
  ASSERT_EQ(sent.status, 201) << sent.body;
  const std::string id = c.json(sent)["command"]["id"];
  for (std::int64_t delivery = 1; delivery <= kCommandDeliveriesMax; ++delivery) {
    HttpResponse next = c.feed("GET", "/api/v1/daemon-commands/next");
    ASSERT_EQ(next.status, 200) << "delivery " << delivery << ": " << next.body;
    EXPECT_EQ(c.json(next)["command"]["deliveries"], delivery);
    c.m.world.run_until(c.m.world.now() + kCommandAnswerGrace + kCommandAnswerGrace + seconds(1));
  }
  EXPECT_EQ(c.feed("GET", "/api/v1/daemon-commands/next").status, 204);
  const Json failed = c.command(id);
  EXPECT_EQ(failed["state"], "failed");
  EXPECT_NE(failed["error"].get<std::string>().find("never answered"), std::string::npos);
}

TEST(CommandQueue, BadInputIsRefusedClearlyAndQueuesNothing) {
  Commands c;
  c.daemon_id = c.create("worker", true);
  c.create("plain", false);
  c.hand_token(c.daemon_id);
  struct Case {
    std::string path, body;
    int status;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"/api/v1/daemons/plain/commands", R"({"name":"reload"})", 409, "does not take commands"},
      {"/api/v1/daemons/laptop/commands", R"({"name":"reload"})", 409, "daemon its user runs"},
      {"/api/v1/daemons/nobody/commands", R"({"name":"reload"})", 404, "no daemon nobody"},
      {"/api/v1/daemons/worker/commands", R"({"name":"explode"})", 400,
       "unknown command \"explode\" (reload, restart, run_tool)"},
      {"/api/v1/daemons/worker/commands", R"({"name":"run_tool","args":{"input":{}}})", 400,
       "args.tool"},
      {"/api/v1/daemons/worker/commands", R"({"name":"reload","args":{"x":1}})", 400, "args.x"},
      {"/api/v1/daemons/worker/commands", R"({"name":"run_tool","args":[1]})", 400,
       "a JSON object"},
      {"/api/v1/daemons/worker/commands",
       R"({"name":"run_tool","args":{"tool":"bash","timeout_s":99999}})", 400, "timeout_s"},
      {"/api/v1/daemons/worker/commands", R"(not json)", 400, "the body is"},
  };
  for (const Case& k : cases) {
    HttpResponse refused = c.call("POST", k.path, k.body);
    EXPECT_EQ(refused.status, k.status) << k.body << ": " << refused.body;
    EXPECT_NE(c.error(refused).find(k.says), std::string::npos) << k.body << ": " << refused.body;
  }
  // Another user's daemon is not found, its commands neither.
  HttpResponse foreign = c.call("POST", "/api/v1/daemons/" + c.daemon_id + "/commands",
                                R"({"name":"reload"})", &c.finn);
  EXPECT_EQ(foreign.status, 404) << foreign.body;
  EXPECT_EQ(c.feed("GET", "/api/v1/daemon-commands/next").status, 204) << "nothing was queued";

  // The feed wants the daemon's current token.
  const std::string forged =
      std::string(kCommandTokenPrefix) + c.daemon_id + "." + std::string(43, 'A');
  for (const std::string& wrong : {forged, c.ada, std::string("rlnt_cmd_x.y")}) {
    HttpResponse refused = c.feed("GET", "/api/v1/daemon-commands/next", "", wrong);
    EXPECT_EQ(refused.status, 401) << wrong << ": " << refused.body;
  }
}

TEST(CommandQueue, APollThatWaitedLeavesTheCommandToTheDaemonsNextPoll) {
  Commands c;
  c.daemon_id = c.create("worker", true);
  c.hand_token(c.daemon_id);
  // A long poll is waiting (its daemon may have gone meanwhile: the server cannot tell) …
  control_plane::CommandQueue queue(c.m.env);
  std::optional<Result<std::optional<CommandRecord>>> polled;
  c.m.scope->spawn(capture(queue.next(c.daemon_id, seconds(30)), &polled));
  c.m.world.run_until(c.m.world.now() + seconds(1));
  ASSERT_FALSE(polled.has_value()) << "it waits";
  // … when a command comes: the poll ends empty-handed at once, and the command stays queued.
  HttpResponse sent = c.call("POST", "/api/v1/daemons/worker/commands", R"({"name":"reload"})");
  ASSERT_EQ(sent.status, 201) << sent.body;
  c.m.run_until([&] { return polled.has_value(); });
  ASSERT_TRUE(polled.has_value() && polled->has_value());
  EXPECT_FALSE(polled->value().has_value());
  const std::string id = c.json(sent)["command"]["id"];
  EXPECT_EQ(c.command(id)["state"], "queued");
  HttpResponse next = c.feed("GET", "/api/v1/daemon-commands/next");
  ASSERT_EQ(next.status, 200) << "the next poll takes it: " << next.body;
  EXPECT_EQ(c.json(next)["command"]["id"], id);
}

TEST(CommandQueue, ACommandForASuspendedDaemonWantsItRunningAgain) {
  Commands c;
  c.daemon_id = c.create("worker", true);
  ASSERT_EQ(c.call("POST", "/api/v1/daemons/worker/suspend").status, 200);
  HttpResponse sent = c.call("POST", "/api/v1/daemons/worker/commands", R"({"name":"reload"})");
  ASSERT_EQ(sent.status, 201) << sent.body;
  const Json daemon = c.json(c.call("GET", "/api/v1/daemons/worker"))["daemon"];
  EXPECT_EQ(daemon["managed"]["desiredState"], "running") << daemon.dump();
}

TEST(CommandQueue, GrpcSendsReadsAndListsCommands) {
  Commands c;
  c.daemon_id = c.create("worker", true);
  v1::SendDaemonCommandRequest send;
  send.set_daemon_id("worker");
  send.set_name("restart");
  auto sent = c.rpc<v1::DaemonCommandResponse>("SendDaemonCommand", send);
  ASSERT_TRUE(sent.has_value()) << sent.error().message;
  EXPECT_EQ(sent->command().state(), "queued");
  v1::GetDaemonCommandRequest get;
  get.set_daemon_id(c.daemon_id);
  get.set_command_id(sent->command().id());
  auto read = c.rpc<v1::DaemonCommandResponse>("GetDaemonCommand", get);
  ASSERT_TRUE(read.has_value()) << read.error().message;
  EXPECT_EQ(read->command().name(), "restart");
  v1::ListDaemonCommandsRequest list;
  list.set_daemon_id("worker");
  auto listed = c.rpc<v1::ListDaemonCommandsResponse>("ListDaemonCommands", list);
  ASSERT_TRUE(listed.has_value()) << listed.error().message;
  EXPECT_EQ(listed->commands_size(), 1);
  send.set_name("nope");
  auto refused = c.rpc<v1::DaemonCommandResponse>("SendDaemonCommand", send);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace reliant::agent
