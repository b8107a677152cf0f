// Shared tool helpers: input fields, output caps, UTF-8 repair, paths, Host error mapping.
#include "services/daemon/tools/tool_support.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/utf8.h"
#include "core/path.h"

namespace reliant::daemon {

namespace {

std::string quoted(std::string_view field) { return "\"" + std::string(field) + "\""; }

const Json* field_of(const Json& input, std::string_view field) {
  auto it = input.find(field);
  if (it == input.end() || it->is_null()) return nullptr;  // models send null for "not given"
  return &*it;
}

}  // namespace

Result<std::string> required_string(const Json& input, std::string_view field) {
  const Json* value = field_of(input, field);
  if (value == nullptr) {
    return fail(ErrorCode::invalid_argument,
                "missing required field " + quoted(field) + " (a string)");
  }
  if (!value->is_string()) {
    return fail(ErrorCode::invalid_argument, "field " + quoted(field) + " must be a string, got " +
                                                 std::string(value->type_name()));
  }
  return value->get<std::string>();
}

Result<std::optional<std::string>> optional_string(const Json& input, std::string_view field) {
  const Json* value = field_of(input, field);
  if (value == nullptr) return std::optional<std::string>();
  if (!value->is_string()) {
    return fail(ErrorCode::invalid_argument, "field " + quoted(field) + " must be a string, got " +
                                                 std::string(value->type_name()));
  }
  return std::optional<std::string>(value->get<std::string>());
}

Result<std::optional<std::int64_t>> optional_integer(const Json& input, std::string_view field) {
  const Json* value = field_of(input, field);
  if (value == nullptr) return std::optional<std::int64_t>();
  if (value->is_number_integer()) {
    if (value->is_number_unsigned() &&
        value->get<std::uint64_t>() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return fail(ErrorCode::invalid_argument, "field " + quoted(field) + " is too large");
    }
    return std::optional<std::int64_t>(value->get<std::int64_t>());
  }
  if (value->is_number_float()) {
    // 5000.0 is an integer in JSON's eyes, and models do send it.
    const double d = value->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) {
      return std::optional<std::int64_t>(static_cast<std::int64_t>(d));
    }
  }
  return fail(
      ErrorCode::invalid_argument,
      "field " + quoted(field) + " must be an integer, got " +
          (value->is_number() ? std::string("a fraction") : std::string(value->type_name())));
}

Result<bool> optional_bool(const Json& input, std::string_view field, bool fallback) {
  const Json* value = field_of(input, field);
  if (value == nullptr) return fallback;
  if (!value->is_boolean()) {
    return fail(ErrorCode::invalid_argument, "field " + quoted(field) +
                                                 " must be true or false, got " +
                                                 std::string(value->type_name()));
  }
  return value->get<bool>();
}

ToolResult invalid_input(const Error& error) {
  return tool_failure(tool_error::invalid_input, error.message);
}

ToolResult host_failure(const Error& error, std::string_view what) {
  std::string message = std::string(what) + ": " + error.message;
  switch (error.code) {
    case ErrorCode::not_found:
      return tool_failure(tool_error::not_found, std::move(message));
    case ErrorCode::invalid_argument:
      return tool_failure(tool_error::invalid_input, std::move(message));
    case ErrorCode::timeout:
      return tool_failure(tool_error::timeout, std::move(message));
    case ErrorCode::cancelled:
      return tool_failure(tool_error::cancelled, std::move(message));
    default:
      return tool_failure(tool_error::failed, std::string(what) + ": " + error.describe());
  }
}

std::string truncation_notice(std::uint64_t over_bytes, std::size_t limit_bytes) {
  return "[output truncated: " + std::to_string(over_bytes) + " bytes over the limit of " +
         std::to_string(limit_bytes) + "]";
}

std::string cap_output(std::string text, std::size_t limit_bytes, std::uint64_t extra_bytes) {
  if (limit_bytes == 0 || (text.size() <= limit_bytes && extra_bytes == 0)) return text;
  const std::size_t keep = utf8_prefix_length(text, limit_bytes);
  const std::uint64_t over = (text.size() - keep) + extra_bytes;
  text.resize(keep);
  append_line(text, truncation_notice(over, limit_bytes));
  return text;
}

void append_line(std::string& text, std::string_view line) {
  if (!text.empty() && text.back() != '\n') text += '\n';
  text += line;
}

std::string resolve_input_path(const ToolContext& ctx, std::string_view path) {
  return resolve_path(ctx.working_dir, path);
}

std::string shown_path(const ToolContext& ctx, std::string_view absolute) {
  return display_path(normalize_path(ctx.working_dir), absolute);
}

}  // namespace reliant::daemon
