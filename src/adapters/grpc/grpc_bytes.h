// Frames in and out of gRPC's ByteBuffer. The tool stream and the RPC server hand gRPC raw
// messages (the component encodes a frame and its peer decodes it, each once), instead of typed
// ones that gRPC would serialize and parse again around the bytes the component already has.
#pragma once

#include <grpcpp/support/byte_buffer.h>

#include <string>
#include <string_view>

namespace reliant::grpc_detail {

// The buffer's bytes, in one string.
std::string bytes_of(const grpc::ByteBuffer& buffer);
// The bytes as a buffer, without copying them: the buffer's slice owns the string.
grpc::ByteBuffer buffer_of(std::string bytes);
// Whether `bytes` has a protobuf message's wire format: every field's number, wire type and
// length hold, up to the last byte. What a field's bytes mean (a string's UTF-8, a nested
// message's fields) is for the decoder to check.
bool well_formed_message(std::string_view bytes);

}  // namespace reliant::grpc_detail
