// Input checking and defaulting.
#include "core/workflow/inputs.h"

#include <cmath>

#include "base/json_parse.h"

namespace reliant::workflow {
namespace {

std::string shown(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string number_text(double d) {
  if (d == std::floor(d) && std::fabs(d) < 1e15) return std::to_string(static_cast<long long>(d));
  return nlohmann::json(d).dump();
}

bool is_multi(const InputSpec& spec) {
  return spec.multi || spec.type == InputType::array || spec.type == InputType::tools;
}

tl::expected<void, std::string> check_bounds(const InputSpec& spec, double measure,
                                             std::string_view what, bool bounds) {
  if (!bounds) return {};
  if (spec.min && measure < *spec.min) {
    return tl::unexpected(std::string(what) + " is below min " + number_text(*spec.min));
  }
  if (spec.max && measure > *spec.max) {
    return tl::unexpected(std::string(what) + " is above max " + number_text(*spec.max));
  }
  return {};
}

tl::expected<void, std::string> check_choice(const InputSpec& spec, const nlohmann::json& value) {
  if (spec.choices.empty()) return {};
  for (const auto& choice : spec.choices) {
    if (choice == value) return {};
  }
  std::string all;
  for (const auto& choice : spec.choices) all += (all.empty() ? "" : ", ") + shown(choice);
  return tl::unexpected(shown(value) + " is not one of " + all);
}

tl::expected<void, std::string> check_single(const InputSpec& spec, const nlohmann::json& value,
                                             bool bounds) {
  switch (spec.type) {
    case InputType::string:
      if (!value.is_string()) return tl::unexpected(shown(value) + " is not a string");
      if (auto b =
              check_bounds(spec, static_cast<double>(value.get<std::string>().size()),
                           "its length " + std::to_string(value.get<std::string>().size()), bounds);
          !b) {
        return b;
      }
      return check_choice(spec, value);
    case InputType::integer:
      if (!value.is_number_integer()) return tl::unexpected(shown(value) + " is not an integer");
      return check_bounds(spec, value.get<double>(), shown(value), bounds);
    case InputType::number:
      if (!value.is_number()) return tl::unexpected(shown(value) + " is not a number");
      return check_bounds(spec, value.get<double>(), shown(value), bounds);
    case InputType::boolean:
      if (!value.is_boolean()) return tl::unexpected(shown(value) + " is not true or false");
      return {};
    case InputType::enumeration:
      return check_choice(spec, value);
    case InputType::object:
    case InputType::group:
      if (!value.is_object()) return tl::unexpected(shown(value) + " is not an object");
      return {};
    case InputType::model:
      // A model by name, or a description such as {tags: [flagship], providers: [anthropic]}.
      if (!value.is_string() && !value.is_object()) {
        return tl::unexpected(shown(value) + " is not a model name or {name|tags|providers}");
      }
      return {};
    case InputType::preset:
    case InputType::tools:
      if (!value.is_string()) return tl::unexpected(shown(value) + " is not a name");
      return {};
    case InputType::array:
      return {};
  }
  return {};
}

nlohmann::json empty_value(const InputSpec& spec) {
  if (is_multi(spec)) return nlohmann::json::array();
  switch (spec.type) {
    case InputType::integer:
      return 0;
    case InputType::number:
      return 0.0;
    case InputType::boolean:
      return false;
    case InputType::object:
    case InputType::group:
      return nlohmann::json::object();
    default:
      return "";
  }
}

// Text from the command line, read as the input's type.
nlohmann::json converted(const InputSpec& spec, const nlohmann::json& value) {
  if (!value.is_string()) return value;
  const auto& text = value.get<std::string>();
  const bool wants_json = is_multi(spec) || spec.type == InputType::integer ||
                          spec.type == InputType::number || spec.type == InputType::boolean ||
                          spec.type == InputType::object || spec.type == InputType::group;
  if (!wants_json) return value;
  auto parsed = parse_json(text);
  if (parsed) return *parsed;
  if (is_multi(spec) && !text.empty() && text.front() != '[') return nlohmann::json::array({text});
  return value;
}

tl::expected<nlohmann::json, std::string> resolved(const InputSpec& spec,
                                                   const nlohmann::json* given,
                                                   InputBounds bounds) {
  if (spec.type == InputType::group) {
    nlohmann::json fields = nlohmann::json::object();
    if (given != nullptr && !given->is_object()) {
      return tl::unexpected("input \"" + spec.name + "\": " + shown(*given) + " is not an object");
    }
    if (given == nullptr && spec.default_value) given = &*spec.default_value;
    auto inner =
        resolve_inputs(spec.fields, given != nullptr ? *given : nlohmann::json::object(), bounds);
    if (!inner) return tl::unexpected("input \"" + spec.name + "\": " + inner.error());
    return cel::to_json(*inner);
  }
  if (given != nullptr) {
    auto value = converted(spec, *given);
    if (auto ok = check_input_value(spec, value, bounds == InputBounds::checked); !ok) {
      return tl::unexpected("input \"" + spec.name + "\": " + ok.error());
    }
    return value;
  }
  if (spec.default_value) return *spec.default_value;
  if (spec.required) return tl::unexpected("input \"" + spec.name + "\" is required");
  return empty_value(spec);
}

}  // namespace

namespace {

constexpr std::pair<std::string_view, InputType> kInputTypeNames[] = {
    {"string", InputType::string},    {"integer", InputType::integer},
    {"number", InputType::number},    {"boolean", InputType::boolean},
    {"enum", InputType::enumeration}, {"array", InputType::array},
    {"object", InputType::object},    {"model", InputType::model},
    {"tools", InputType::tools},      {"preset", InputType::preset},
    {"group", InputType::group}};

}  // namespace

std::optional<InputType> input_type_named(std::string_view name) noexcept {
  for (const auto& [n, type] : kInputTypeNames) {
    if (n == name) return type;
  }
  return std::nullopt;
}

std::string_view to_string(InputType type) noexcept {
  for (const auto& [n, t] : kInputTypeNames) {
    if (t == type) return n;
  }
  return "string";
}

nlohmann::json input_schema(const std::vector<InputSpec>& specs) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& spec : specs) {
    nlohmann::json entry = spec.extra.is_object() ? spec.extra : nlohmann::json::object();
    entry["name"] = spec.name;
    entry["type"] = std::string(to_string(spec.type));
    if (!spec.description.empty()) entry["description"] = spec.description;
    if (spec.default_value) entry["default"] = *spec.default_value;
    if (spec.min) entry["min"] = *spec.min;
    if (spec.max) entry["max"] = *spec.max;
    if (!spec.choices.empty()) entry["enum"] = spec.choices;
    if (spec.multi) entry["multi"] = true;
    if (spec.required) entry["required"] = true;
    if (!spec.fields.empty()) entry["fields"] = input_schema(spec.fields);
    out.push_back(std::move(entry));
  }
  return out;
}

tl::expected<void, std::string> check_input_value(const InputSpec& spec,
                                                  const nlohmann::json& value, bool bounds) {
  if (value.is_null()) return {};
  if (is_multi(spec) && value.is_array()) {
    if (auto b = check_bounds(spec, static_cast<double>(value.size()),
                              "its size " + std::to_string(value.size()), bounds);
        spec.type == InputType::array && !b) {
      return b;
    }
    if (spec.type == InputType::array) return {};
    for (const auto& item : value) {
      if (auto ok = check_single(spec, item, bounds); !ok) return ok;
    }
    return {};
  }
  if (spec.type == InputType::array || (spec.type == InputType::tools && !spec.multi)) {
    if (!value.is_array()) return tl::unexpected(shown(value) + " is not a list");
  }
  if (spec.multi) return tl::unexpected(shown(value) + " is not a list (the input is multi)");
  return check_single(spec, value, bounds);
}

tl::expected<cel::Value, std::string> resolve_inputs(const std::vector<InputSpec>& specs,
                                                     const nlohmann::json& given,
                                                     InputBounds bounds) {
  if (!given.is_object()) return tl::unexpected(std::string("inputs must be an object"));
  for (const auto& [name, value] : given.items()) {
    bool known = false;
    for (const auto& spec : specs) known = known || spec.name == name;
    if (!known) return tl::unexpected("unknown input \"" + name + "\"");
  }
  cel::ValueMap out;
  for (const auto& spec : specs) {
    const auto it = given.find(spec.name);
    auto value = resolved(spec, it == given.end() ? nullptr : &*it, bounds);
    if (!value) return tl::unexpected(value.error());
    out.insert(cel::Value(spec.name), cel::from_json(*value));
  }
  return cel::Value(std::move(out));
}

}  // namespace reliant::workflow
