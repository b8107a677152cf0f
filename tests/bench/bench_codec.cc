// Wire codecs on the tool path: the JSON a bus payload is (docs/architecture.md §6) and the binary
// a daemon-stream frame is, for a tool request and response of the size a no-op tool call has.
#include <benchmark/benchmark.h>

#include "protocol/codec.h"
#include "reliant/daemon/v1/daemon.pb.h"

namespace reliant {
namespace {

namespace v1 = daemon::v1;

v1::ToolRequest sample_request() {
  v1::ToolRequest request;
  request.set_request_id("01M82GVGTKR5TTPD36Q82TZFWM");
  request.set_user_id("01M82GV7PQZ4Y1V0Y0X8G0AB3C");
  request.set_daemon_id("01M82GV9A1B2C3D4E5F6G7H8J9");
  request.set_tool_name("echo");
  request.set_input_json(R"({"text":")" + std::string(200, 'x') + R"("})");
  request.set_timeout_ms(10000);
  return request;
}

v1::ToolResponse sample_response() {
  v1::ToolResponse response;
  response.set_request_id("01M82GVGTKR5TTPD36Q82TZFWM");
  response.set_success(true);
  response.set_content(std::string(200, 'x'));
  response.set_metadata_json("{}");
  response.set_daemon_id("01M82GV9A1B2C3D4E5F6G7H8J9");
  response.set_user_id("01M82GV7PQZ4Y1V0Y0X8G0AB3C");
  return response;
}

void BM_ToolRequestToJson(benchmark::State& state) {
  const auto request = sample_request();
  for (auto _ : state) benchmark::DoNotOptimize(protocol::to_json(request));
}
BENCHMARK(BM_ToolRequestToJson);

void BM_ToolRequestFromJson(benchmark::State& state) {
  const std::string json = protocol::to_json(sample_request());
  for (auto _ : state) benchmark::DoNotOptimize(protocol::from_json<v1::ToolRequest>(json));
}
BENCHMARK(BM_ToolRequestFromJson);

void BM_ToolResponseToJson(benchmark::State& state) {
  const auto response = sample_response();
  for (auto _ : state) benchmark::DoNotOptimize(protocol::to_json(response));
}
BENCHMARK(BM_ToolResponseToJson);

void BM_ToolResponseFromJson(benchmark::State& state) {
  const std::string json = protocol::to_json(sample_response());
  for (auto _ : state) benchmark::DoNotOptimize(protocol::from_json<v1::ToolResponse>(json));
}
BENCHMARK(BM_ToolResponseFromJson);

void BM_GatewayFrameEncodeDecode(benchmark::State& state) {
  v1::GatewayFrame frame;
  *frame.mutable_tool_request() = sample_request();
  for (auto _ : state) {
    const std::string bytes = protocol::encode(frame);
    benchmark::DoNotOptimize(protocol::decode<v1::GatewayFrame>(bytes));
  }
}
BENCHMARK(BM_GatewayFrameEncodeDecode);

}  // namespace
}  // namespace reliant
