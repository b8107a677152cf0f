// Migration 1: identities, daemons, projects, chats and their messages, tool requests and the
// per-user update stream. (The durable engine's tables arrive as migration 2 with the engine.)
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
         // active_daemon_id is the chat's session daemon (seed 000: the daemon picker).
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
         // A tool request is durable before it is routed (DESIGN.md §5): a gateway streams the
         // pending ones to a daemon when it connects. request_id is the idempotency key.
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
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

std::int64_t latest_schema_version() { return kMigrations.back().version; }

}  // namespace reliant
