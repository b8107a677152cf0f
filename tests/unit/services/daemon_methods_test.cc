// The daemon's table of typed methods against daemon_services.proto and daemon_pages.proto: every
// unary rpc has exactly one handler on the daemon and one translation for daemons of protocol 0,
// and nothing else has either; the streaming rpcs are the api's, built on the daemon's pages.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include <google/protobuf/descriptor.h>

#include "reliant/api/v1/daemon_services.pb.h"
#include "reliant/daemon/v1/daemon_pages.pb.h"
#include "services/daemon/command_answers.h"
#include "services/daemon/daemon_methods.h"
#include "services/gateway/legacy_daemon_calls.h"

namespace reliant::daemon {
namespace {

TEST(DaemonMethods, EveryRpcOfDaemonServicesHasExactlyOneHandler) {
  std::set<std::string> unary;
  std::set<std::string> streaming;
  for (const google::protobuf::FileDescriptor* file :
       {reliant::api::v1::FileEntry::descriptor()->file(),
        reliant::daemon::v1::ProcessOutputPage::descriptor()->file()}) {
    for (int s = 0; s < file->service_count(); ++s) {
      const google::protobuf::ServiceDescriptor* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        const google::protobuf::MethodDescriptor* method = service->method(m);
        const std::string name = "/" + service->full_name() + "/" + method->name();
        if (method->client_streaming() || method->server_streaming()) {
          streaming.insert(name);
          EXPECT_EQ(daemon_methods().find(name), nullptr) << name << " streams: the api's";
          continue;
        }
        unary.insert(name);
        EXPECT_NE(daemon_methods().find(name), nullptr) << name << " has no handler";
        EXPECT_TRUE(gateway::has_legacy_call(name)) << name << " has no protocol 0 verb";
      }
    }
  }
  EXPECT_EQ(unary.size(), 21u + 5u);  // the services', and the pages their streams are made of
  EXPECT_EQ(streaming,
            (std::set<std::string>{"/reliant.api.v1.BackgroundService/StreamProcessOutput",
                                   "/reliant.api.v1.TerminalService/StreamTerminal"}));
  const std::vector<std::string> handled = daemon_methods().names();
  EXPECT_EQ(std::set<std::string>(handled.begin(), handled.end()), unary);
  EXPECT_EQ(handled.size(), unary.size()) << "a method with two handlers";
  const std::vector<std::string> legacy = gateway::legacy_methods();
  EXPECT_EQ(std::set<std::string>(legacy.begin(), legacy.end()), unary);
}

Task<Result<reliant::api::v1::FileEntry>> metadata_handler(reliant::api::v1::GetFileMetadataRequest,
                                                           MethodContext&) {
  co_return reliant::api::v1::FileEntry();
}

// A missing or mistyped piece fails when the table is built, at start-up, not at a call.
TEST(DaemonMethods, ATableRefusesAMethodNotInTheProtoMistypedOrAddedTwice) {
  DaemonMethods table;
  table.add("/reliant.api.v1.FileSystemService/GetFileMetadata", &metadata_handler);
  EXPECT_DEATH(table.add("/reliant.api.v1.FileSystemService/GetFileMetadata", &metadata_handler),
               "");
  EXPECT_DEATH(table.add("/reliant.api.v1.FileSystemService/ListDirectory", &metadata_handler), "");
  EXPECT_DEATH(table.add("/reliant.api.v1.FileSystemService/Nope", &metadata_handler), "");
  EXPECT_DEATH(table.add("ListDirectory", &metadata_handler), "");
}

// One reading of a refusal for every server that receives one (the api's REST and gRPC, the
// gateway's protocol 0 translation): the typed error_code first, else the old {"code"}; only
// codes a daemon may report pass.
TEST(DaemonMethods, ARefusalIsReadTheSameWayWhateverProtocolItCameIn) {
  v1::DaemonCommandResult typed;
  typed.set_error_code("unimplemented");
  typed.set_error_message("no such method");
  EXPECT_EQ(command_refusal(typed).code, ErrorCode::unimplemented);
  EXPECT_EQ(command_refusal(typed).message, "no such method");
  v1::DaemonCommandResult old;
  old.set_output_json(R"({"code":"not_found"})");
  EXPECT_EQ(command_refusal(old).code, ErrorCode::not_found);
  v1::DaemonCommandResult claims;
  claims.set_error_code("unauthenticated");  // a daemon cannot sign its caller out
  EXPECT_EQ(command_refusal(claims).code, ErrorCode::failed_precondition);
  EXPECT_EQ(command_refusal(v1::DaemonCommandResult()).code, ErrorCode::failed_precondition);
}

}  // namespace
}  // namespace reliant::daemon
