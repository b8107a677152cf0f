// Protobuf's JSON mapping for "plain" messages, by reflection in one pass — the bus's hot path.
//
// protobuf's util converts through a type resolver and an object-writer pipeline: ~7 µs to
// print and ~15 µs to parse a tool request, several times per tool call (bench_codec). Most bus
// payloads need none of that machinery: their fields are strings, integers, booleans and
// messages of the same kind. For those, these functions print exactly the bytes protobuf's
// MessageToJsonString prints and parse exactly what JsonStringToMessage accepts into the same
// message — or decline, and the caller (codec.cc) asks protobuf. Declining is how anything
// unusual is handled: a field protobuf would reject or treat specially (unknown, duplicated,
// null, a number with a fraction, an enum), invalid UTF-8. So errors always come from
// protobuf, worded as before. tests/property/plain_json_test.cc and fuzz/protocol_fuzz.cc
// check both directions against protobuf.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

namespace reliant::protocol {

// proto3, and every field (singular or repeated) a string, bool, integer or plain message: no
// map, oneof, optional, enum, float, double, bytes or well-known type. Remembered per type.
bool is_plain(const google::protobuf::Descriptor* type);

// MessageToJsonString's output with default options; nullopt when a string is not valid UTF-8.
std::optional<std::string> print_plain_json(const google::protobuf::Message& message);

// True: `message` holds what `json` says (cleared first). False: declined; `message` holds
// something partial, and protobuf must parse `json` instead.
bool parse_plain_json(std::string_view json, google::protobuf::Message& message);

}  // namespace reliant::protocol
