// Presets from the command line: `validate` reads files (or a folder such as .reliant/presets)
// and checks them here, offline; `list`, `show`, `create` and `delete` go through the API
// server's /api/v1/presets. Exit 0 on success, 1 when a file is invalid or the server refuses,
// 2 when the server cannot be reached or the arguments are wrong.
#include "app/preset_commands.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/api_client.h"
#include "base/terminal_text.h"
#include "core/workflow/preset.h"

namespace reliant {
namespace {

using Json = nlohmann::json;

constexpr int kPresetCommandFailed = 1;
constexpr int kPresetArgumentsWrong = 2;

struct PresetOptions {
  ApiClientOptions api;
  std::string project;
  std::vector<std::string> paths;
  std::string name;
  bool json = false;
};

// The files `paths` name: each file, and each *.yaml / *.yml of each folder, sorted.
Result<std::vector<std::string>> preset_files(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  for (const auto& path : paths) {
    std::error_code error;
    if (!fs::is_directory(path, error)) {
      out.push_back(path);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(path, error)) {
      const auto extension = entry.path().extension();
      if (entry.is_regular_file() && (extension == ".yaml" || extension == ".yml"))
        found.push_back(entry.path().string());
    }
    if (error) return fail(ErrorCode::invalid_argument, path + ": " + error.message());
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

Result<std::string> read_preset_file(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(ErrorCode::not_found, file + ": cannot read the file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (buffer.str().size() > workflow::kPresetBytesMax) {
    return fail(ErrorCode::invalid_argument,
                file + ": larger than " + std::to_string(workflow::kPresetBytesMax) + " bytes");
  }
  return buffer.str();
}

std::string project_query(const PresetOptions& o) {
  return o.project.empty() ? std::string() : "?project_id=" + o.project;
}

// A preset file read and checked, its mistakes printed as file:line:column (nullopt then).
struct CheckedPreset {
  std::string text;
  workflow::Preset preset;
};
std::optional<CheckedPreset> checked_preset_file(const std::string& file) {
  auto text = read_preset_file(file);
  if (!text) {
    std::fprintf(stderr, "%s\n", text.error().message.c_str());
    return std::nullopt;
  }
  auto preset = workflow::load_preset(*text);
  if (!preset) {
    std::fprintf(stderr, "%s\n", workflow::format_all(file, preset.error()).c_str());
    return std::nullopt;
  }
  return CheckedPreset{std::move(*text), std::move(*preset)};
}

// Calls `use(file, checked)` for each preset file `paths` name that checks, and returns the
// worst status: 2 when the paths cannot be listed, 1 when a file did not check, else the worst
// `use` returned.
template <typename Use>
int each_preset_file(const std::vector<std::string>& paths, Use&& use) {
  auto files = preset_files(paths);
  if (!files) {
    std::fprintf(stderr, "%s\n", files.error().message.c_str());
    return kPresetArgumentsWrong;
  }
  int status = 0;
  for (const auto& file : *files) {
    const auto checked = checked_preset_file(file);
    status = std::max(status, checked ? use(file, *checked) : kPresetCommandFailed);
  }
  return status;
}

int validate_files(const PresetOptions& o) {
  return each_preset_file(o.paths, [](const std::string& file, const CheckedPreset& checked) {
    std::printf("%s: ok (preset \"%s\", tag \"%s\", %zu params)\n", file.c_str(),
                strip_terminal_controls(checked.preset.name).c_str(),
                strip_terminal_controls(checked.preset.tag).c_str(), checked.preset.params.size());
    return 0;
  });
}

int list_presets(const PresetOptions& o) {
  auto client = ApiClient::open(o.api);
  if (!client) return report_api_error(client.error());
  auto listed = client->call("GET", "/api/v1/presets" + project_query(o));
  if (!listed) return report_api_error(listed.error());
  if (o.json) {
    std::printf("%s\n", listed->dump(2).c_str());
    return 0;
  }
  for (const auto& preset : listed->value("presets", Json::array())) {
    std::string description = preset.value("description", "");
    if (description.size() > 72) description = description.substr(0, 69) + "...";
    std::printf("%-24s %-8s %-8s %s\n", strip_terminal_controls(preset.value("name", "")).c_str(),
                strip_terminal_controls(preset.value("origin", "")).c_str(),
                strip_terminal_controls(preset.value("tag", "")).c_str(),
                strip_terminal_controls(description).c_str());
  }
  return 0;
}

int show_preset(const PresetOptions& o) {
  auto client = ApiClient::open(o.api);
  if (!client) return report_api_error(client.error());
  auto found = client->call("GET", "/api/v1/presets/" + o.name + project_query(o));
  if (!found) return report_api_error(found.error());
  if (o.json) {
    std::printf("%s\n", found->dump(2).c_str());
    return 0;
  }
  std::printf("# %s preset\n%s", strip_terminal_controls(found->value("origin", "")).c_str(),
              strip_terminal_controls(found->value("source", "")).c_str());
  return 0;
}

int create_presets(const PresetOptions& o) {
  auto client = ApiClient::open(o.api);
  if (!client) return report_api_error(client.error());
  // Each file is checked here first, so mistakes name it rather than the server's "preset.yaml".
  return each_preset_file(o.paths, [&](const std::string& file, const CheckedPreset& checked) {
    Json body = {{"source", checked.text}};
    if (!o.project.empty()) body["project_id"] = o.project;
    auto stored = client->call("POST", "/api/v1/presets", body);
    if (!stored) return report_api_error(stored.error());
    std::printf("%s: stored preset \"%s\" (%s)\n", file.c_str(),
                strip_terminal_controls(stored->value("name", "")).c_str(),
                strip_terminal_controls(stored->value("origin", "")).c_str());
    return 0;
  });
}

int delete_preset(const PresetOptions& o) {
  auto client = ApiClient::open(o.api);
  if (!client) return report_api_error(client.error());
  auto deleted = client->call("DELETE", "/api/v1/presets/" + o.name + project_query(o));
  if (!deleted) return report_api_error(deleted.error());
  std::printf("deleted preset \"%s\"\n", strip_terminal_controls(o.name).c_str());
  return 0;
}

}  // namespace

void add_preset_commands(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<PresetOptions>();
  auto* preset = app.add_subcommand(
      "preset", "Presets: named agent settings (system prompt, model, tools) workflows apply");
  preset->require_subcommand(1);

  auto* validate = preset->add_subcommand(
      "validate",
      "Check preset files or folders (e.g. .reliant/presets) offline; errors as "
      "file:line:column");
  validate->add_option("paths", options->paths, "Preset YAML files or folders")->required();
  validate->callback([options, &exit_code] { exit_code = validate_files(*options); });

  auto* list = preset->add_subcommand(
      "list", "List the presets in force: built-in, yours and the project's (name, origin, tag)");
  auto* show = preset->add_subcommand("show", "Print a preset's YAML");
  show->add_option("name", options->name, "The preset's name")->required();
  auto* create = preset->add_subcommand(
      "create",
      "Store preset files (or a folder's) as yours, or the project's with --project; "
      "a preset of the same name is replaced");
  create->add_option("paths", options->paths, "Preset YAML files or folders")->required();
  auto* remove = preset->add_subcommand("delete", "Delete one of your (or the project's) presets");
  remove->add_option("name", options->name, "The preset's name")->required();
  for (auto* command : {list, show, create, remove}) {
    add_api_client_options(*command, options->api);
    command->add_option("--project", options->project,
                        "A project's id: its presets (over yours and the built-ins)");
  }
  for (auto* command : {list, show}) {
    command->add_flag("--json", options->json, "Print the server's JSON");
  }
  list->callback([options, &exit_code] { exit_code = list_presets(*options); });
  show->callback([options, &exit_code] { exit_code = show_preset(*options); });
  create->callback([options, &exit_code] { exit_code = create_presets(*options); });
  remove->callback([options, &exit_code] { exit_code = delete_preset(*options); });
}

}  // namespace reliant
