// Managed daemons for their users: each call one transaction, then a wake-up for the control
// plane.
#include "services/control_plane/managed_daemon_service.h"

#include <map>

#include "core/provisioner.h"
#include "core/tool_subjects.h"
#include "services/control_plane/control_plane.h"
#include "services/storage/projects.h"

namespace reliant::control_plane {
namespace {

using Json = nlohmann::json;
namespace v1 = api::v1;

// A daemon of the user's with its managed state, read in one transaction.
Result<v1::Daemon> daemon_view(SqlTransaction& tx, const std::string& user_id,
                               const std::string& daemon) {
  auto managed = owned_managed_daemon(tx, user_id, daemon);
  if (managed) {
    auto row = find_daemon(tx, managed->id);
    if (!row) return fail(row.error());
    if (!*row) return fail(ErrorCode::not_found, "no daemon " + daemon);
    v1::Daemon out;
    to_proto(**row, out);
    to_proto(*managed, *out.mutable_managed());
    return out;
  }
  if (managed.error().code != ErrorCode::not_found) return fail(managed.error());
  auto all = list_daemons(tx, user_id);
  if (!all) return fail(all.error());
  for (const auto& row : *all) {
    if (row.id != daemon && row.name != daemon) continue;
    v1::Daemon out;
    to_proto(row, out);
    return out;
  }
  return fail(ErrorCode::not_found, "no daemon " + daemon);
}

// The user's managed daemon named `daemon`; a daemon of theirs that is not managed is named
// as such, so that "suspend my laptop" says why it cannot.
// Each link that is not a path names one of the user's projects or worktrees.
Result<void> check_links(SqlTransaction& tx, const std::string& user_id,
                         const ManagedDaemonSpec& spec) {
  for (std::size_t i = 0; i < spec.links.size(); ++i) {
    if (link_is_path(spec.links[i])) continue;
    auto path = project_or_worktree_path(tx, user_id, spec.links[i]);
    if (path) continue;
    if (path.error().code != ErrorCode::not_found &&
        path.error().code != ErrorCode::failed_precondition) {
      return fail(path.error());
    }
    return fail(ErrorCode::invalid_argument,
                "links[" + std::to_string(i) + "]: " + path.error().message +
                    " (a link is an absolute path, or a project's or worktree's id)");
  }
  return {};
}

}  // namespace

Result<ManagedDaemonRecord> managed_of(SqlTransaction& tx, const std::string& user_id,
                                       const std::string& daemon, std::string_view what) {
  auto managed = owned_managed_daemon(tx, user_id, daemon);
  if (managed || managed.error().code != ErrorCode::not_found) return managed;
  auto view = daemon_view(tx, user_id, daemon);
  if (!view) return fail(view.error());
  return fail(ErrorCode::failed_precondition,
              "daemon " + view->name() + " (" + view->id() + ") is a " + view->type() +
                  " daemon its user runs; only managed daemons can be " + std::string(what));
}

Json spec_json(const v1::ManagedDaemonSpec& spec) {
  Json out = {{"name", spec.name()},
              {"platform", spec.platform().empty() ? "local" : spec.platform()},
              {"env", Json::object()},
              {"labels", Json::object()},
              {"links", spec.links()},
              {"commands_enabled", spec.commands_enabled()},
              {"always_on", spec.always_on()}};
  for (const auto& [key, value] : spec.env()) out["env"][key] = value;
  for (const auto& [key, value] : spec.labels()) out["labels"][key] = value;
  if (!spec.permissions().empty()) out["permissions"] = spec.permissions();
  Json code = Json::object();
  if (!spec.code_binary().empty()) code["binary"] = spec.code_binary();
  if (!spec.code_image().empty()) code["image"] = spec.code_image();
  out["code"] = std::move(code);
  return out;
}

void to_proto(const DaemonRecord& daemon, v1::Daemon& out) {
  out.set_id(daemon.id);
  out.set_name(daemon.name);
  out.set_type(std::string(to_string(daemon.type)));
  for (const auto& [key, value] : daemon.labels) (*out.mutable_labels())[key] = value;
  out.set_status(std::string(to_string(daemon.status)));
  out.set_hostname(daemon.hostname);
  out.set_platform(daemon.platform);
  out.set_working_dir(daemon.working_dir);
  out.set_version(daemon.version);
  out.set_last_heartbeat_at_ms(daemon.last_heartbeat_at_ms.value_or(0));
  out.set_connected_at_ms(daemon.connected_at_ms.value_or(0));
}

void to_proto(const ManagedDaemonRecord& m, v1::ManagedDaemonState& out) {
  v1::ManagedDaemonSpec& spec = *out.mutable_spec();
  spec.set_name(m.spec.name);
  spec.set_platform(std::string(name_of(kDaemonPlatformNames, m.spec.platform)));
  spec.set_code_binary(m.spec.code.binary);
  spec.set_code_image(m.spec.code.image);
  for (const auto& [key, value] : m.spec.env) (*spec.mutable_env())[key] = value;
  for (const auto& [key, value] : m.spec.labels) (*spec.mutable_labels())[key] = value;
  for (const auto& link : m.spec.links) spec.add_links(link);
  if (m.spec.permissions) {
    spec.set_permissions(std::string(name_of(kPermissionProfileNames, *m.spec.permissions)));
  }
  spec.set_commands_enabled(m.spec.commands_enabled);
  spec.set_always_on(m.spec.always_on);
  out.set_desired_state(std::string(name_of(kDesiredStateNames, m.desired)));
  out.set_observed_state(std::string(name_of(kObservedStateNames, m.observed)));
  out.set_address(m.address);
  out.set_restarts(m.restarts);
  out.set_last_error(m.last_error);
  out.set_created_at_ms(m.created_at_ms);
  out.set_updated_at_ms(m.updated_at_ms);
}

ManagedDaemonService::ManagedDaemonService(Env& env, ManagedDaemonServiceConfig config)
    : env_(env),
      config_(std::move(config)),
      ids_(env.executor, env.random.split("managed-daemons")) {}

void ManagedDaemonService::wake() {
  // A hint: without it the control plane acts at its next round.
  if (env_.bus != nullptr) (void)env_.bus->publish(subjects::kControlPlaneWake, "{}");
}

Task<Result<v1::Daemon>> ManagedDaemonService::create(std::string user_id,
                                                      v1::ManagedDaemonSpec spec) {
  auto parsed = parse_managed_daemon_spec(spec_json(spec));
  if (!parsed) co_return fail(parsed.error());
  if (auto ok = preflight_platform(parsed->platform, config_.platforms); !ok) {
    co_return fail(ok.error());
  }
  if (parsed->platform == DaemonPlatform::local && !config_.local_platform_user.empty() &&
      user_id != config_.local_platform_user) {
    co_return fail(ErrorCode::permission_denied,
                   "local daemons run as this server's OS user, so only its local user may "
                   "create them; connect a daemon of your own (reliant daemon start)");
  }
  ManagedDaemonRecord row;
  row.id = ids_.next();
  row.user_id = user_id;
  row.spec = std::move(*parsed);
  row.created_at_ms = to_ms(env_.executor.now());
  Task<Result<v1::Daemon>> writing = env_.store->transact_for(
      [row, dialect = env_.store->dialect(),
       per_user_max = config_.per_user_max](SqlTransaction& tx) -> Result<v1::Daemon> {
        if (auto ok = check_links(tx, row.user_id, row.spec); !ok) return fail(ok.error());
        if (auto ok = insert_managed_daemon_within_limit(tx, dialect, row, per_user_max); !ok)
          return fail(ok.error());
        return daemon_view(tx, row.user_id, row.id);
      });
  Result<v1::Daemon> created = co_await writing;
  if (created) wake();
  co_return created;
}

Task<Result<v1::ListDaemonsResponse>> ManagedDaemonService::list(std::string user_id) {
  Task<Result<v1::ListDaemonsResponse>> reading =
      env_.store->transact_for([user_id](SqlTransaction& tx) -> Result<v1::ListDaemonsResponse> {
        auto daemons = list_daemons(tx, user_id);
        if (!daemons) return fail(daemons.error());
        auto managed = list_managed_daemons(tx, user_id);
        if (!managed) return fail(managed.error());
        std::map<std::string, const ManagedDaemonRecord*> by_id;
        for (const auto& m : *managed) by_id[m.id] = &m;
        v1::ListDaemonsResponse out;
        for (const auto& daemon : *daemons) {
          v1::Daemon& shown = *out.add_daemons();
          to_proto(daemon, shown);
          if (const auto found = by_id.find(daemon.id); found != by_id.end()) {
            to_proto(*found->second, *shown.mutable_managed());
          }
        }
        return out;
      });
  co_return co_await reading;
}

Task<Result<v1::Daemon>> ManagedDaemonService::get(std::string user_id, std::string daemon) {
  Task<Result<v1::Daemon>> reading = env_.store->transact_for(
      [user_id, daemon](SqlTransaction& tx) { return daemon_view(tx, user_id, daemon); });
  co_return co_await reading;
}

Task<Result<v1::Daemon>> ManagedDaemonService::update(std::string user_id, std::string daemon,
                                                      v1::ManagedDaemonSpec spec) {
  auto parsed = parse_managed_daemon_spec(spec_json(spec));
  if (!parsed) co_return fail(parsed.error());
  Task<Result<v1::Daemon>> writing = env_.store->transact_for(
      [user_id, daemon, parsed = *parsed,
       now_ms = to_ms(env_.executor.now())](SqlTransaction& tx) -> Result<v1::Daemon> {
        auto managed = managed_of(tx, user_id, daemon, "updated");
        if (!managed) return fail(managed.error());
        if (parsed.name != managed->spec.name || parsed.platform != managed->spec.platform) {
          return fail(ErrorCode::invalid_argument,
                      "a managed daemon keeps its name and platform; create another daemon for "
                      "a new one");
        }
        if (auto ok = check_links(tx, user_id, parsed); !ok) return fail(ok.error());
        auto replaced = replace_managed_spec(tx, managed->id, parsed, now_ms);
        if (!replaced) return fail(replaced.error());
        return daemon_view(tx, user_id, managed->id);
      });
  Result<v1::Daemon> updated = co_await writing;
  if (updated) wake();
  co_return updated;
}

Task<Result<v1::Daemon>> ManagedDaemonService::set_desired(std::string user_id, std::string daemon,
                                                           DesiredState desired) {
  const std::string_view what = desired == DesiredState::running     ? "resumed"
                                : desired == DesiredState::suspended ? "suspended"
                                                                     : "deleted";
  Task<Result<v1::Daemon>> writing = env_.store->transact_for(
      [user_id, daemon, desired, what,
       now_ms = to_ms(env_.executor.now())](SqlTransaction& tx) -> Result<v1::Daemon> {
        auto managed = managed_of(tx, user_id, daemon, what);
        if (!managed) return fail(managed.error());
        auto set = set_desired_state(tx, managed->id, desired, now_ms);
        if (!set) return fail(set.error());
        return daemon_view(tx, user_id, managed->id);
      });
  Result<v1::Daemon> changed = co_await writing;
  if (changed) wake();
  co_return changed;
}

}  // namespace reliant::control_plane
