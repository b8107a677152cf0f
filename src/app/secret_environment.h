// Keeping the server's secrets from the tools it runs. Tools start with a scrubbed environment
// (PosixHost), but a tool runs as the same OS user and could read this process's own initial
// environment from /proc/<pid>/environ, or attach a debugger to it. Once a role has read what it
// needs from its environment, it overwrites the values of secret-looking variables (API keys,
// tokens, secrets, passwords, DATABASE_URL) in that memory, and makes itself non-dumpable (its
// /proc files and ptrace closed to other processes of the user).
#pragma once

#include <string_view>

namespace reliant {

// Whether a variable of this name holds a secret.
bool is_secret_variable(std::string_view name);

// Overwrites secret variables' values in place (same length, '*'), and makes the process
// non-dumpable. Call after the role read its configuration (getenv afterwards sees stars).
// Returns how many variables it scrubbed.
int protect_secret_environment();

}  // namespace reliant
