// ask_question answered over REST (services/api/workflow_routes.cc) on the virtual-time
// monolith: the run started through POST /api/v1/workflows/runs waits with its question, a
// POST /api/v1/runs/{id}/answer from its owner becomes the node's output and the run goes on with
// it, and its updates show the answer as the node's completion; approving a question, answering
// without an answer, answering someone else's run or answering twice are refused.
#include <gtest/gtest.h>

#include "services/api/api_server.h"
#include "services/storage/accounts.h"
#include "unit/services/agent_monolith.h"

namespace reliant::agent {
namespace {

using Json = nlohmann::json;

// The monolith with its REST API, and a token for each of its users.
struct RestMonolith : Monolith {
  api::ApiServer api{env, api::ApiConfig{}};
  std::string user_1 = add_token("user-1", 1);
  std::string user_2 = add_token("user-2", 2);
  ~RestMonolith() { scope.reset(); }  // requests in flight go before the API they call

  std::string add_token(const std::string& user, std::uint8_t fill) {
    std::array<std::uint8_t, kPatRandomBytes> secret{};
    secret.fill(fill);
    const NewToken token = make_token(secret, "tok-" + user, user, "test", 0);
    auto made = database.database().transact(
        [&](SqlTransaction& tx) -> Result<void> { return insert_new_token(tx, token); });
    EXPECT_TRUE(made.has_value()) << made.error().message;
    return token.token;
  }
  HttpResponse call(const std::string& method, const std::string& path, const std::string& token,
                    const Json& body = Json::object()) {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.headers["authorization"] = "Bearer " + token;
    if (method != "GET") request.body = body.dump();
    return run(api.handle(std::move(request)));
  }
  Json get_run(const std::string& run_id) {
    const HttpResponse response = call("GET", "/api/v1/runs/" + run_id, user_1);
    EXPECT_EQ(response.status, 200) << response.body;
    return Json::parse(response.body, nullptr, false);
  }
};

constexpr const char* kPickAndDeploy = R"(name: pick
entry: which
nodes:
  - id: which
    type: ask_question
    question: "Which branch should I deploy?"
    options: [main, release]
    timeout: 1h
  - {id: deploy, type: run, command: "echo deploying {{ nodes.which.answer }}"}
edges:
  - {from: which, to: deploy}
outputs:
  answer: "{{ nodes.which.answer }}"
  deployed: "{{ nodes.deploy.stdout }}"
)";

TEST(WorkflowQuestions, AnAnswerOverRestIsTheNodesOutputAndTheRunGoesOnWithIt) {
  RestMonolith m;
  const HttpResponse started =
      m.call("POST", "/api/v1/workflows/runs", m.user_1, Json{{"source", kPickAndDeploy}});
  ASSERT_EQ(started.status, 201) << started.body;
  const std::string run_id = Json::parse(started.body)["run_id"];

  // It waits with its question, and nothing after it has run.
  m.run_until([&] {
    const Json run = m.get_run(run_id);
    return run["nodes"].size() == 1 && run["nodes"][0]["status"] == "waiting";
  });
  const Json waiting = m.get_run(run_id);
  ASSERT_EQ(waiting["nodes"].size(), 1u) << waiting.dump();
  EXPECT_EQ(waiting["nodes"][0]["key"], "which");
  EXPECT_EQ(waiting["nodes"][0]["args"]["question"], "Which branch should I deploy?");
  EXPECT_EQ(waiting["nodes"][0]["args"]["options"], (Json{"main", "release"}));
  EXPECT_TRUE(m.host.commands_run().empty());

  // A question is answered, not approved; another user's run is not found.
  EXPECT_EQ(m.call("POST", "/api/v1/runs/" + run_id + "/approve", m.user_1).status, 409);
  EXPECT_EQ(m.call("POST", "/api/v1/runs/" + run_id + "/answer", m.user_2, Json{{"answer", "main"}})
                .status,
            404);
  EXPECT_EQ(m.call("POST", "/api/v1/runs/" + run_id + "/answer", m.user_1, Json::object()).status,
            400)
      << "an answer needs its answer";

  const HttpResponse answered =
      m.call("POST", "/api/v1/runs/" + run_id + "/answer", m.user_1, Json{{"answer", "release"}});
  ASSERT_EQ(answered.status, 200) << answered.body;
  EXPECT_EQ(Json::parse(answered.body)["node"], "which");

  m.run_until([&] { return m.get_run(run_id)["status"] == "completed"; });
  const Json done = m.get_run(run_id);
  EXPECT_EQ(done["result"]["outputs"],
            (Json{{"answer", "release"}, {"deployed", "deploying release\n"}}))
      << done.dump();
  bool answered_node = false;
  for (const auto& node : done["nodes"]) {
    if (node["key"] != "which") continue;
    answered_node = true;
    EXPECT_EQ(node["status"], "completed");
    EXPECT_EQ(node["output"], (Json{{"answer", "release"}}));
  }
  EXPECT_TRUE(answered_node) << done.dump();
  // Answered once: nothing waits any more.
  EXPECT_EQ(m.call("POST", "/api/v1/runs/" + run_id + "/answer", m.user_1, Json{{"answer", "main"}})
                .status,
            409);

  // The run's updates show the answer as the question's completion, once.
  const HttpResponse events = m.call("GET", "/api/v1/runs/" + run_id + "/events", m.user_1);
  ASSERT_EQ(events.status, 200) << events.body;
  std::vector<std::string> which;
  const Json listed = Json::parse(events.body);
  for (const auto& event : listed["events"]) {
    if (event.value("key", "") == "which") which.push_back(event["kind"]);
  }
  EXPECT_EQ(which, std::vector<std::string>{"node_completed"}) << events.body;
}

}  // namespace
}  // namespace reliant::agent
