// Migration 1: identities, daemons, projects, chats and their messages, tool requests and the
// per-user update stream. Migration 2: the durable engine (docs/architecture.md §7). Migration 3:
// the tool path — token expiry, daemon connection identity, exactly-once dispatch of tool requests.
// Migration 4: sign-in (passwords, the CLI's login codes) and user settings. Migration 7: the
// workflow definitions of projects. Migration 8: the conversation threads of workflow runs.
// Migration 14: managed daemons, the control plane's. Migration 15: their commands.
#include "services/storage/schema.h"

namespace reliant {
namespace {

const std::vector<Migration> kMigrations = {
    {1,
     "identities, daemons, chats, tool requests, user events",
     {
         R"(CREATE TABLE users (
              id TEXT PRIMARY KEY,
              email TEXT NOT NULL UNIQUE,
              name TEXT NOT NULL DEFAULT '',
              created_at_ms BIGINT NOT NULL))",
         // Only the SHA-256 of a token is stored; display_prefix is what listings show.
         R"(CREATE TABLE personal_access_tokens (
              id TEXT PRIMARY KEY,
              user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
              name TEXT NOT NULL DEFAULT '',
              display_prefix TEXT NOT NULL,
              token_hash TEXT NOT NULL UNIQUE,
              created_at_ms BIGINT NOT NULL,
              last_used_at_ms BIGINT,
              revoked_at_ms BIGINT))",
         "CREATE INDEX personal_access_tokens_user ON personal_access_tokens(user_id)",
         R"(CREATE TABLE daemons (
              id TEXT PRIMARY KEY,
              user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
              name TEXT NOT NULL,
              type TEXT NOT NULL CHECK (type IN ('local', 'cloud')),
              labels_json TEXT NOT NULL DEFAULT '{}',
              hostname TEXT NOT NULL DEFAULT '',
              platform TEXT NOT NULL DEFAULT '',
              working_dir TEXT NOT NULL DEFAULT '',
              status TEXT NOT NULL CHECK (status IN ('active', 'idle', 'disconnected')),
              last_heartbeat_at_ms BIGINT,
              gateway_id TEXT,
              connected_at_ms BIGINT,
              created_at_ms BIGINT NOT NULL))",
         "CREATE INDEX daemons_user ON daemons(user_id, status)",
         R"(CREATE TABLE projects (
              id TEXT PRIMARY KEY,
              user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
              name TEXT NOT NULL,
              path TEXT NOT NULL DEFAULT '',
              created_at_ms BIGINT NOT NULL))",
         "CREATE INDEX projects_user ON projects(user_id)",
         R"(CREATE TABLE worktrees (
              id TEXT PRIMARY KEY,
              project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
              path TEXT NOT NULL,
              branch TEXT NOT NULL DEFAULT '',
              created_at_ms BIGINT NOT NULL))",
         "CREATE INDEX worktrees_project ON worktrees(project_id)",
         // active_daemon_id is the chat's session daemon (spec S0.15: the daemon picker).
         R"(CREATE TABLE chats (
              id TEXT PRIMARY KEY,
              user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
              project_id TEXT REFERENCES projects(id) ON DELETE SET NULL,
              worktree_id TEXT REFERENCES worktrees(id) ON DELETE SET NULL,
              workflow_name TEXT NOT NULL DEFAULT 'agent',
              workflow_run_id TEXT,
              active_daemon_id TEXT REFERENCES daemons(id) ON DELETE SET NULL,
              title TEXT NOT NULL DEFAULT '',
              status TEXT NOT NULL CHECK (status IN ('idle', 'running', 'failed', 'cancelled')),
              created_at_ms BIGINT NOT NULL,
              updated_at_ms BIGINT NOT NULL))",
         "CREATE INDEX chats_user ON chats(user_id, updated_at_ms)",
         R"(CREATE TABLE messages (
              id TEXT PRIMARY KEY,
              chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
              ordinal BIGINT NOT NULL,
              role TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system', 'tool')),
              model TEXT NOT NULL DEFAULT '',
              input_tokens BIGINT NOT NULL DEFAULT 0,
              output_tokens BIGINT NOT NULL DEFAULT 0,
              created_at_ms BIGINT NOT NULL,
              UNIQUE (chat_id, ordinal)))",
         R"(CREATE TABLE content_blocks (
              id TEXT PRIMARY KEY,
              message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
              ordinal BIGINT NOT NULL,
              kind TEXT NOT NULL CHECK (kind IN ('text', 'tool_call', 'tool_result', 'thinking', 'image', 'error')),
              body_json TEXT NOT NULL,
              UNIQUE (message_id, ordinal)))",
         // A tool request is durable before it is routed (docs/architecture.md §6): a gateway
         // streams the pending ones to a daemon when it connects. request_id is the idempotency
         // key.
         R"(CREATE TABLE tool_requests (
              request_id TEXT PRIMARY KEY,
              user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
              daemon_id TEXT,
              chat_id TEXT,
              run_id TEXT,
              tool_call_id TEXT NOT NULL DEFAULT '',
              tool_name TEXT NOT NULL,
              input_json TEXT NOT NULL,
              timeout_ms BIGINT NOT NULL,
              status TEXT NOT NULL CHECK (status IN ('pending', 'dispatched', 'completed')),
              result_json TEXT,
              created_at_ms BIGINT NOT NULL,
              dispatched_at_ms BIGINT,
              completed_at_ms BIGINT))",
         "CREATE INDEX tool_requests_pending ON tool_requests(user_id, daemon_id, created_at_ms) "
         "WHERE status <> 'completed'",
         // Every update a user can see, numbered per user without gaps, so a client resumes from
         // `since_seq` on any api replica. user_event_heads holds each user's last number.
         R"(CREATE TABLE user_events (
              user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
              seq BIGINT NOT NULL,
              kind TEXT NOT NULL,
              chat_id TEXT,
              body_json TEXT NOT NULL,
              created_at_ms BIGINT NOT NULL,
              PRIMARY KEY (user_id, seq)))",
         R"(CREATE TABLE user_event_heads (
              user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
              last_seq BIGINT NOT NULL))",
     }},
    {2,
     "durable engine: workflow definitions, runs, histories, task queue",
     {
         R"(CREATE TABLE workflow_definitions (
              id TEXT PRIMARY KEY,
              name TEXT NOT NULL,
              version BIGINT NOT NULL,
              source TEXT NOT NULL,
              created_at_ms BIGINT NOT NULL,
              UNIQUE (name, version)))",
         // The next history seq is MAX(seq) + 1 of the run's history (a primary-key read),
         // computed under the run row's lock: appends do not write this row, only a run's end
         // does. A workflow task commits only if that seq is still the one it replayed up to.
         R"(CREATE TABLE workflow_runs (
              id TEXT PRIMARY KEY,
              namespace TEXT NOT NULL,
              workflow_name TEXT NOT NULL,
              status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
              input_json TEXT NOT NULL,
              result_json TEXT,
              error TEXT,
              created_at_ms BIGINT NOT NULL,
              updated_at_ms BIGINT NOT NULL,
              closed_at_ms BIGINT))",
         "CREATE INDEX workflow_runs_status ON workflow_runs(namespace, status)",
         R"(CREATE TABLE workflow_history (
              run_id TEXT NOT NULL REFERENCES workflow_runs(id) ON DELETE CASCADE,
              seq BIGINT NOT NULL,
              kind TEXT NOT NULL,
              ref_seq BIGINT NOT NULL DEFAULT 0,
              body_json TEXT NOT NULL,
              created_at_ms BIGINT NOT NULL,
              PRIMARY KEY (run_id, seq)){{without_rowid}})",
         // At most one answer per activity or timer, whatever races: the idempotency backstop.
         "CREATE UNIQUE INDEX workflow_history_one_answer ON workflow_history(run_id, ref_seq) "
         "WHERE ref_seq > 0",
         // Tasks: kind 'workflow' (decide), 'activity' (run one), 'timer' (fire one). A task is
         // ready from visible_at_ms; a worker leases it until lease_expires_at_ms; `attempt`
         // counts leases and is the fencing token of the lease holder.
         R"(CREATE TABLE engine_tasks (
              id TEXT PRIMARY KEY,
              queue TEXT NOT NULL,
              kind TEXT NOT NULL CHECK (kind IN ('workflow', 'activity', 'timer')),
              run_id TEXT NOT NULL REFERENCES workflow_runs(id) ON DELETE CASCADE,
              event_seq BIGINT NOT NULL,
              status TEXT NOT NULL CHECK (status IN ('ready', 'leased', 'done')),
              attempt BIGINT NOT NULL DEFAULT 0,
              max_attempts BIGINT NOT NULL DEFAULT 1,
              visible_at_ms BIGINT NOT NULL,
              lease_owner TEXT,
              leased_at_ms BIGINT,
              lease_expires_at_ms BIGINT,
              start_to_close_ms BIGINT NOT NULL DEFAULT 0,
              heartbeat_timeout_ms BIGINT NOT NULL DEFAULT 0,
              last_error TEXT,
              created_at_ms BIGINT NOT NULL,
              updated_at_ms BIGINT NOT NULL){{without_rowid}})",
         "CREATE INDEX engine_tasks_ready ON engine_tasks(queue, visible_at_ms) WHERE status = "
         "'ready'",
         "CREATE INDEX engine_tasks_leased ON engine_tasks(lease_expires_at_ms) WHERE status = "
         "'leased'",

     }},
    {3,
     "tool path: token expiry, daemon connections, tool request dispatch",
     {
         "ALTER TABLE personal_access_tokens ADD COLUMN expires_at_ms BIGINT",
         // Each stream a gateway accepts gets a new connection_id: status writes are conditional
         // on it, so a gateway that lost a daemon to another cannot overwrite the newer state.
         "ALTER TABLE daemons ADD COLUMN connection_id TEXT",
         // The daemon process's run: a request dispatched to an earlier session was lost with it.
         "ALTER TABLE daemons ADD COLUMN session_id TEXT",
         "ALTER TABLE daemons ADD COLUMN version TEXT NOT NULL DEFAULT ''",
         // The holding gateway renews this while it holds the stream; a row whose lease ran
         // out belongs to a gateway that died, and any gateway marks it disconnected.
         "ALTER TABLE daemons ADD COLUMN lease_until_ms BIGINT",
         "ALTER TABLE tool_requests ADD COLUMN reply_subject TEXT NOT NULL DEFAULT ''",
         "ALTER TABLE tool_requests ADD COLUMN daemon_session TEXT",
         // What a gateway streams to a daemon when it connects.
         "CREATE INDEX tool_requests_open ON tool_requests(daemon_id, created_at_ms) "
         "WHERE status <> 'completed'",
     }},
    {4,
     "sign-in: passwords, one-time login codes of the CLI's browser flow, user settings",
     {
         // A salted, slow hash ("pbkdf2-sha256$<iterations>$<salt>$<hash>"); NULL: the user
         // cannot sign in with a password (a token or the identity provider only).
         "ALTER TABLE users ADD COLUMN password_hash TEXT",
         // A browser sign-in hands the CLI a code, and the CLI trades it (with the PKCE
         // verifier only it knows) for a token. Only the code's hash is stored; used once.
         R"(CREATE TABLE login_codes (
              code_hash TEXT PRIMARY KEY,
              user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
              redirect_uri TEXT NOT NULL,
              code_challenge TEXT NOT NULL,
              created_at_ms BIGINT NOT NULL,
              expires_at_ms BIGINT NOT NULL,
              used_at_ms BIGINT))",
         R"(CREATE TABLE user_settings (
              user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
              body_json TEXT NOT NULL,
              updated_at_ms BIGINT NOT NULL))",
     }},
    {5,
     "engine tasks: CHECK constraints SQLite tests without a temporary b-tree",
     // Postgres: nothing to change.
     {},
     // SQLite evaluates `x IN (three or more constants)` in a CHECK by building a temporary
     // b-tree on every write that checks it: two per decision task inserted and one per task
     // update, a third of an engine step's statement time (measured with perf). The same
     // constraints written as ORs cost a comparison each. SQLite cannot alter a CHECK, so the
     // table is rebuilt; nothing references engine_tasks, so dropping it cascades nowhere.
     {
         R"(CREATE TABLE engine_tasks_rebuilt (
              id TEXT PRIMARY KEY,
              queue TEXT NOT NULL,
              kind TEXT NOT NULL CHECK (kind = 'workflow' OR kind = 'activity' OR kind = 'timer'),
              run_id TEXT NOT NULL REFERENCES workflow_runs(id) ON DELETE CASCADE,
              event_seq BIGINT NOT NULL,
              status TEXT NOT NULL CHECK (status = 'ready' OR status = 'leased' OR status = 'done'),
              attempt BIGINT NOT NULL DEFAULT 0,
              max_attempts BIGINT NOT NULL DEFAULT 1,
              visible_at_ms BIGINT NOT NULL,
              lease_owner TEXT,
              leased_at_ms BIGINT,
              lease_expires_at_ms BIGINT,
              start_to_close_ms BIGINT NOT NULL DEFAULT 0,
              heartbeat_timeout_ms BIGINT NOT NULL DEFAULT 0,
              last_error TEXT,
              created_at_ms BIGINT NOT NULL,
              updated_at_ms BIGINT NOT NULL) WITHOUT ROWID)",
         "INSERT INTO engine_tasks_rebuilt (id, queue, kind, run_id, event_seq, status, attempt, "
         "max_attempts, visible_at_ms, lease_owner, leased_at_ms, lease_expires_at_ms, "
         "start_to_close_ms, heartbeat_timeout_ms, last_error, created_at_ms, updated_at_ms) "
         "SELECT id, queue, kind, run_id, event_seq, status, attempt, max_attempts, visible_at_ms, "
         "lease_owner, leased_at_ms, lease_expires_at_ms, start_to_close_ms, "
         "heartbeat_timeout_ms, last_error, created_at_ms, updated_at_ms FROM engine_tasks",
         "DROP TABLE engine_tasks",
         "ALTER TABLE engine_tasks_rebuilt RENAME TO engine_tasks",
         "CREATE INDEX engine_tasks_ready ON engine_tasks(queue, visible_at_ms) WHERE status = "
         "'ready'",
         "CREATE INDEX engine_tasks_leased ON engine_tasks(lease_expires_at_ms) WHERE status = "
         "'leased'",
     }},
    {6,
     "daemon admissions fenced by the daemon's own registration order",
     {
         // The registration_seq of the admitted connection: a gateway that admits an older one
         // late (it hung with the registration in hand) is refused.
         "ALTER TABLE daemons ADD COLUMN registration_seq BIGINT NOT NULL DEFAULT 0",
     }},
    {7,
     "workflow definitions stored per project",
     {
         // A project's workflows by name; each save validates the YAML and bumps the version.
         // A run carries the source it started from, so editing one never changes a run.
         R"(CREATE TABLE project_workflows (
              id TEXT PRIMARY KEY,
              project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
              name TEXT NOT NULL,
              source TEXT NOT NULL,
              version BIGINT NOT NULL,
              created_at_ms BIGINT NOT NULL,
              updated_at_ms BIGINT NOT NULL,
              UNIQUE (project_id, name)))",
     }},
    {8,
     "conversation threads of workflow runs",
     {
         // "" is a chat's main thread, the one it shows. A workflow node with `thread: new` or
         // `fork` talks on a thread of its own; a fork sees its source's messages up to the
         // fork, then its own.
         "ALTER TABLE messages ADD COLUMN thread TEXT NOT NULL DEFAULT ''",
         "CREATE INDEX messages_thread ON messages(chat_id, thread, ordinal)",
         R"(CREATE TABLE threads (
              chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
              id TEXT NOT NULL,
              parent TEXT,
              forked_at_ordinal BIGINT NOT NULL DEFAULT 0,
              created_at_ms BIGINT NOT NULL,
              PRIMARY KEY (chat_id, id)))",
         // What a chat runs for each message unless the message says otherwise: a workflow
         // (workflow_name: builtin://agent, or a project's workflow by name) and its inputs.
         "ALTER TABLE chats ADD COLUMN workflow_inputs_json TEXT NOT NULL DEFAULT '{}'",
         // Whose run it is (its input's user_id), so a user's runs list without reading inputs.
         "ALTER TABLE workflow_runs ADD COLUMN owner TEXT",
         "CREATE INDEX workflow_runs_owner ON workflow_runs(owner, created_at_ms)",
     }},
    {9,
     "chats from before workflow choice name builtin://agent",
     {
         // Before migration 8 every chat ran the engine workflow 'agent': the chat agent, now
         // builtin://agent. Read as that ever since, 'agent' could not name a project's
         // workflow called agent; written out, it can.
         "UPDATE chats SET workflow_name = 'builtin://agent' WHERE workflow_name = 'agent'",
     }},
    {10,
     "plans per chat and the answers of tools that run on the server",
     {
         // The planning tools' document (services/agent/plan_tools.h), one per chat.
         R"(CREATE TABLE chat_plans (
              chat_id TEXT PRIMARY KEY REFERENCES chats(id) ON DELETE CASCADE,
              plan_json TEXT NOT NULL,
              version BIGINT NOT NULL,
              updated_at_ms BIGINT NOT NULL))",
         // A server tool's answer by its request id, written with its effect in one
         // transaction: a retried step finds it and does not run the tool again.
         R"(CREATE TABLE server_tool_calls (
              request_id TEXT PRIMARY KEY,
              chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
              tool TEXT NOT NULL,
              content TEXT NOT NULL,
              is_error BIGINT NOT NULL,
              created_at_ms BIGINT NOT NULL))",
         "CREATE INDEX server_tool_calls_chat ON server_tool_calls(chat_id)",
     }},
    {11,
     "a chat's updates by number",
     {
         // A chat's update stream catches up on that chat's events alone (read_events_page),
         // not on every event of its user.
         "CREATE INDEX user_events_chat ON user_events(user_id, chat_id, seq)",
     }},
    {12,
     "child runs: the run that waits for each, and which of a run's children still run",
     {
         // A child run's end signals its parent (engine::kChildEndedSignal, with parent_key);
         // a parent's end cancels the children still running.
         "ALTER TABLE workflow_runs ADD COLUMN parent_run_id TEXT",
         "ALTER TABLE workflow_runs ADD COLUMN parent_key TEXT",
         "CREATE INDEX workflow_runs_children ON workflow_runs(parent_run_id, status) "
         "WHERE parent_run_id IS NOT NULL",
     }},
    {13,
     "users the identity provider's JWTs sign in as",
     {
         // The JWT subject a user signs in as; NULL: none (tokens and passwords only). Before,
         // a JWT signed in as whichever user had its subject for an id, including users made
         // with `reliant admin user create`.
         "ALTER TABLE users ADD COLUMN jwt_subject TEXT",
         // Users that JWTs may have made keep signing in: those without a password, but the
         // monolith's local user (which no JWT ever signs in as).
         "UPDATE users SET jwt_subject = id "
         "WHERE password_hash IS NULL AND email <> 'local@localhost'",
         "CREATE UNIQUE INDEX users_jwt_subject ON users(jwt_subject)",
     }},
    {14,
     "managed daemons: the control plane's spec, desired and observed state, and lease",
     {
         // When the daemon last served its user (a tool call, a terminal, an MCP call), as the
         // holding gateway hears it in the daemon's heartbeats: what idle suspension reads.
         "ALTER TABLE daemons ADD COLUMN last_activity_at_ms BIGINT",
         // One row per managed daemon, beside its row in daemons (same id). The control plane
         // replica holding lease_owner until lease_until_ms is the one acting on it.
         R"(CREATE TABLE managed_daemons (
              id TEXT PRIMARY KEY REFERENCES daemons(id) ON DELETE CASCADE,
              user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
              name TEXT NOT NULL,
              platform TEXT NOT NULL,
              spec_json TEXT NOT NULL,
              desired_state TEXT NOT NULL
                CHECK (desired_state IN ('running', 'suspended', 'deleted')),
              observed_state TEXT NOT NULL
                CHECK (observed_state IN ('pending', 'running', 'exited', 'failed', 'suspended')),
              address TEXT NOT NULL DEFAULT '',
              restarts BIGINT NOT NULL DEFAULT 0,
              next_attempt_at_ms BIGINT NOT NULL DEFAULT 0,
              last_error TEXT NOT NULL DEFAULT '',
              active_at_ms BIGINT NOT NULL,
              lease_owner TEXT,
              lease_until_ms BIGINT NOT NULL DEFAULT 0,
              created_at_ms BIGINT NOT NULL,
              updated_at_ms BIGINT NOT NULL))",
         "CREATE UNIQUE INDEX managed_daemons_name ON managed_daemons(user_id, name)",
     }},
    {15,
     "the Commands protocol: a durable queue of commands per managed daemon",
     {
         // The SHA-256 of the token the daemon polls with (core/queued_command.h); the control
         // plane draws a new one each time it starts the daemon. Empty: no commands.
         "ALTER TABLE managed_daemons ADD COLUMN commands_token_hash TEXT NOT NULL DEFAULT ''",
         // A delivered command is the daemon's until lease_until_ms; then it is handed out again
         // (the daemon's journal keeps its effect to one).
         R"(CREATE TABLE daemon_commands (
              id TEXT PRIMARY KEY,
              daemon_id TEXT NOT NULL REFERENCES daemons(id) ON DELETE CASCADE,
              user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
              name TEXT NOT NULL,
              args_json TEXT NOT NULL,
              run_time_ms BIGINT NOT NULL,
              state TEXT NOT NULL
                CHECK (state IN ('queued', 'delivered', 'succeeded', 'failed')),
              deliveries BIGINT NOT NULL DEFAULT 0,
              lease_until_ms BIGINT NOT NULL DEFAULT 0,
              result_json TEXT NOT NULL DEFAULT '',
              error TEXT NOT NULL DEFAULT '',
              created_at_ms BIGINT NOT NULL,
              completed_at_ms BIGINT NOT NULL DEFAULT 0))",
         "CREATE INDEX daemon_commands_daemon ON daemon_commands(daemon_id, state, id)",
     }},
    {16,
     "secrets of the whole deployment: the one managed daemons' dial keys derive from",
     {
         R"(CREATE TABLE cluster_secrets (
              name TEXT PRIMARY KEY,
              value TEXT NOT NULL,
              created_at_ms BIGINT NOT NULL))",
     }},
    {17,
     "presets: a user's own and a project's, by name; and the presets a chat's runs apply",
     {
         // project_id '' is the user's own preset; otherwise the project's (its owner's).
         // A project's preset outranks the user's and the built-in of the same name.
         R"(CREATE TABLE presets (
              id TEXT PRIMARY KEY,
              user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
              project_id TEXT NOT NULL DEFAULT '',
              name TEXT NOT NULL,
              source TEXT NOT NULL,
              created_at_ms BIGINT NOT NULL,
              updated_at_ms BIGINT NOT NULL,
              UNIQUE (user_id, project_id, name)))",
         // {group: preset name} ("default": the workflow's own inputs), JSON.
         "ALTER TABLE chats ADD COLUMN presets_json TEXT NOT NULL DEFAULT '{}'",
     }},
    {18,
     "spawned agents: the sub-agents a run started with the spawn tool",
     {
         // id is the sub-agent's run (its agent_id), a child of parent_run_id whose parent_key
         // names its preset; it talks on its own thread of the parent's chat.
         R"(CREATE TABLE spawned_agents (
              id TEXT PRIMARY KEY,
              parent_run_id TEXT NOT NULL,
              user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
              chat_id TEXT NOT NULL,
              thread TEXT NOT NULL,
              preset TEXT NOT NULL,
              title TEXT NOT NULL,
              created_at_ms BIGINT NOT NULL))",
         "CREATE INDEX spawned_agents_parent ON spawned_agents(parent_run_id, id)",
     }},
    {19,
     "provider keys: a user's own API keys for the model providers, sealed at rest",
     {
         // sealed: AES-256-GCM under the server's secrets key (never in the database), bound to
         // the user and the provider (base/sealed_box.h); key_fingerprint names that key.
         R"(CREATE TABLE provider_keys (
              user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
              provider TEXT NOT NULL,
              sealed TEXT NOT NULL,
              key_fingerprint TEXT NOT NULL,
              created_at_ms BIGINT NOT NULL,
              updated_at_ms BIGINT NOT NULL,
              PRIMARY KEY (user_id, provider)))",
     }},
    {20,
     "triggers: schedules, webhooks and workflow events that start runs, and their firings",
     {
         // A trigger is a user's (project_id '' or one of their projects). kind says which spec
         // spec_json holds (core/triggers); mapping_json the declaration's {filter, inputs,
         // prompt}; params_json the inputs every run gets. A webhook's token is kept hashed
         // (token_hash), its HMAC secret sealed (sealed_secret, base/sealed_box.h). A schedule
         // has dealt with every instant up to considered_ms, and its next firing is due at due_ms
         // (NULL: nothing due — disabled, or not a schedule).
         R"(CREATE TABLE triggers (
              id TEXT PRIMARY KEY,
              user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
              project_id TEXT NOT NULL DEFAULT '',
              name TEXT NOT NULL,
              kind TEXT NOT NULL CHECK (kind IN ('schedule', 'webhook', 'workflow_event')),
              workflow TEXT NOT NULL,
              declaration TEXT NOT NULL DEFAULT '',
              spec_json TEXT NOT NULL,
              mapping_json TEXT NOT NULL DEFAULT '{}',
              params_json TEXT NOT NULL DEFAULT '{}',
              message TEXT NOT NULL DEFAULT '',
              enabled BIGINT NOT NULL DEFAULT 1,
              token_hash TEXT NOT NULL DEFAULT '',
              sealed_secret TEXT NOT NULL DEFAULT '',
              anchor_ms BIGINT NOT NULL,
              considered_ms BIGINT NOT NULL,
              due_ms BIGINT,
              created_at_ms BIGINT NOT NULL,
              updated_at_ms BIGINT NOT NULL,
              UNIQUE (user_id, project_id, name)))",
         "CREATE INDEX triggers_due ON triggers(due_ms) WHERE due_ms IS NOT NULL",
         "CREATE INDEX triggers_kind ON triggers(kind, user_id)",
         // One row per firing: (trigger, key) is unique — the key is the instant a schedule
         // fires for, a delivery's idempotency key, the run an event is of — and the row commits
         // with the run it starts, so a firing starts at most one run whatever replica or retry
         // attempts it. A deleted trigger's firings stay, trigger_id cleared.
         R"(CREATE TABLE trigger_firings (
              id TEXT PRIMARY KEY,
              trigger_id TEXT REFERENCES triggers(id) ON DELETE SET NULL,
              user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
              firing_key TEXT NOT NULL,
              kind TEXT NOT NULL,
              instant_ms BIGINT NOT NULL,
              status TEXT NOT NULL CHECK (status IN ('launched', 'skipped', 'failed', 'queued')),
              detail TEXT NOT NULL DEFAULT '',
              chat_id TEXT NOT NULL DEFAULT '',
              run_id TEXT NOT NULL DEFAULT '',
              payload_json TEXT NOT NULL DEFAULT '{}',
              created_at_ms BIGINT NOT NULL))",
         "CREATE UNIQUE INDEX trigger_firings_once ON trigger_firings(trigger_id, firing_key)",
         "CREATE INDEX trigger_firings_recent ON trigger_firings(trigger_id, created_at_ms)",
         "CREATE INDEX trigger_firings_queued ON trigger_firings(status) WHERE status = 'queued'",
         // How far the workflow-event scan has read the runs that ended: (closed_at_ms, id).
         R"(CREATE TABLE trigger_cursors (
              name TEXT PRIMARY KEY,
              at_ms BIGINT NOT NULL,
              run_id TEXT NOT NULL))",
         "CREATE INDEX workflow_runs_closed ON workflow_runs(closed_at_ms, id) WHERE closed_at_ms "
         "IS NOT NULL",
     }},
    {21,
     "the connected daemons of a user in the order a tool call prefers them",
     {
         // Keyed as list_connected_daemons sorts (daemons.cc): a call reads its first rows in
         // order instead of sorting every connected daemon of the user (100 in a fleet).
         "CREATE INDEX daemons_connected ON daemons(user_id, (CASE WHEN type = 'local' THEN 0 "
         "ELSE 1 END), (COALESCE(connected_at_ms, 0)) DESC, id) WHERE status IN ('active', "
         "'idle')",
     }},
    {22,
     "the leased daemons a gateway's sweep reads",
     {
         // Matches leased_daemons' own conditions (daemons.cc): the sweep reads the daemons
         // whose lease ends soon, not every daemon ever registered (with sequential scans off
         // on Postgres's sessions, that read was a walk of the whole primary key).
         "CREATE INDEX daemons_leased ON daemons(lease_until_ms) WHERE status <> 'disconnected' "
         "AND lease_until_ms IS NOT NULL AND connection_id IS NOT NULL",
     }},
    {23,
     "a finished engine task is deleted, not kept as done",
     {
         // The engine deletes a task when it retires it (its work is in the run's history); the
         // tasks earlier versions kept as 'done', a few a message for ever, go too.
         "DELETE FROM engine_tasks WHERE status = 'done'",
     }},
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

std::int64_t latest_schema_version() { return kMigrations.back().version; }

std::string statement_for(const std::string& statement, SqlDialect dialect) {
  static constexpr std::string_view kToken = "{{without_rowid}}";
  std::string out = statement;
  for (auto at = out.find(kToken); at != std::string::npos; at = out.find(kToken)) {
    out.replace(at, kToken.size(), dialect == SqlDialect::sqlite ? " WITHOUT ROWID" : "");
  }
  return out;
}

}  // namespace reliant
