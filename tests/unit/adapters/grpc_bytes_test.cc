// grpc_bytes.h: frames in and out of gRPC's ByteBuffer unchanged, and the wire-format check a
// frame gets before the tool stream sends it (what the fields hold is left to the decoder).
#include "adapters/grpc/grpc_bytes.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "reliant/daemon/v1/daemon.pb.h"  // and protobuf's logging: LogSilencer

namespace reliant::grpc_detail {
namespace {

namespace v1 = daemon::v1;

std::string encoded(const google::protobuf::Message& message) {
  std::string bytes;
  EXPECT_TRUE(message.SerializeToString(&bytes));
  return bytes;
}

v1::DaemonFrame registration() {
  v1::DaemonFrame frame;
  v1::Register& reg = *frame.mutable_register_();
  reg.set_name("laptop");
  reg.set_hostname("box");
  (*reg.mutable_labels())["role"] = "dev";
  (*reg.mutable_labels())["zone"] = "eu";
  reg.add_methods("ListDirectory");
  reg.add_methods("ReadFile");
  return frame;
}

v1::DaemonFrame tool_response(std::size_t content_bytes) {
  v1::DaemonFrame frame;
  v1::ToolResponse& response = *frame.mutable_tool_response();
  response.set_request_id("req-1");
  response.set_success(true);
  response.set_content(std::string(content_bytes, 'c'));
  return frame;
}

TEST(GrpcBytes, AFrameComesOutOfItsBufferAsItWentIn) {
  for (const std::string& frame :
       {std::string(), encoded(registration()), encoded(tool_response(1 << 20))}) {
    EXPECT_EQ(bytes_of(buffer_of(frame)), frame);
  }
}

TEST(GrpcBytes, ABufferOfSeveralSlicesComesOutWhole) {
  std::vector<grpc::Slice> slices{grpc::Slice(std::string("ab")), grpc::Slice(std::string("")),
                                  grpc::Slice(std::string("cde"))};
  grpc::ByteBuffer buffer(slices.data(), slices.size());
  EXPECT_EQ(bytes_of(buffer), "abcde");
}

TEST(GrpcBytes, EveryEncodedMessageIsWellFormed) {
  EXPECT_TRUE(well_formed_message(""));  // the empty message: every field at its default
  EXPECT_TRUE(well_formed_message(encoded(v1::DaemonFrame())));
  EXPECT_TRUE(well_formed_message(encoded(registration())));
  EXPECT_TRUE(well_formed_message(encoded(tool_response(0))));
  EXPECT_TRUE(well_formed_message(encoded(tool_response(70000))));
  v1::GatewayFrame request;
  request.mutable_tool_request()->set_request_id("r");
  request.mutable_tool_request()->set_timeout_ms(-1);  // a negative varint: ten bytes
  EXPECT_TRUE(well_formed_message(encoded(request)));
}

TEST(GrpcBytes, BrokenWireFormatIsRefused) {
  const std::string broken[] = {
      std::string("\x0a\x7f", 2),              // a length past the end
      std::string("\x08\x80", 2),              // a varint cut short
      std::string("\x08", 1),                  // a tag without its value
      std::string("\x00\x01", 2),              // field number 0
      std::string("\x0f\x01", 2),              // wire type 7
      std::string("\x0c", 1),                  // a group's end with no group open
      std::string("\x08\x01\x0c\x08\x01", 5),  // … after a field, hiding what follows
      std::string("\x0d\x01\x02", 3),          // a fixed32 cut short
      std::string("\x09\x01\x02\x03\x04", 5),  // a fixed64 cut short
  };
  for (const std::string& bytes : broken) {
    EXPECT_FALSE(well_formed_message(bytes)) << testing::PrintToString(bytes);
  }
}

TEST(GrpcBytes, AFrameCutInsideAFieldIsRefusedAndOneCutBetweenFieldsIsNot) {
  // Two fields: request_id (tag, length, 5 bytes) then success (tag, 1): 7 + 2 bytes.
  v1::ToolResponse response;
  response.set_request_id("req-1");
  response.set_success(true);
  const std::string frame = encoded(response);
  ASSERT_EQ(frame.size(), 9u);
  for (std::size_t cut = 0; cut <= frame.size(); ++cut) {
    const bool between_fields = cut == 0 || cut == 7 || cut == 9;
    EXPECT_EQ(well_formed_message(frame.substr(0, cut)), between_fields) << "cut at " << cut;
  }
}

TEST(GrpcBytes, NothingProtobufParsesIsRefused) {
  // Random frames, and encoded frames with a byte changed: whatever protobuf's own parser accepts
  // as a frame of either direction, the check accepts too (it may accept more: field contents).
  // protobuf logs every string of invalid UTF-8 it refuses: thousands of lines here.
  const google::protobuf::LogSilencer quiet;
  std::mt19937 random(44);
  const std::string seeds[] = {encoded(registration()), encoded(tool_response(40)), ""};
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = seeds[i % 3];
    if (bytes.empty()) {
      bytes.resize(random() % 12);
      for (char& c : bytes) c = static_cast<char>(random() % 4 == 0 ? random() % 32 : random());
    } else {
      bytes[random() % bytes.size()] = static_cast<char>(random());
      if (random() % 4 == 0) bytes.resize(random() % bytes.size());
    }
    v1::DaemonFrame daemon_frame;
    v1::GatewayFrame gateway_frame;
    if (daemon_frame.ParseFromString(bytes) || gateway_frame.ParseFromString(bytes)) {
      ++parsed;
      EXPECT_TRUE(well_formed_message(bytes)) << testing::PrintToString(bytes);
    }
  }
  EXPECT_GT(parsed, 1000);  // the property was tried, not vacuously true
}

TEST(GrpcBytes, WhatAFieldHoldsIsTheDecodersToCheck) {
  // A string field of invalid UTF-8 has the wire format of any other; the peer's decoder is
  // what refuses it (and drops the frame).
  v1::ToolResponse response;
  response.set_request_id("req-1");
  std::string frame = encoded(response);
  const std::size_t at = frame.find("req-1");
  ASSERT_NE(at, std::string::npos);
  frame[at] = '\xff';
  EXPECT_TRUE(well_formed_message(frame));
  const google::protobuf::LogSilencer quiet;  // protobuf logs the string it refuses
  v1::ToolResponse decoded;
  EXPECT_FALSE(decoded.ParseFromString(frame));
}

}  // namespace
}  // namespace reliant::grpc_detail
