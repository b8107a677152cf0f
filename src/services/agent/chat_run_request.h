// The run a chat's message starts: the chat's workflow (or the message's), the chat's inputs with
// the message's on top, presets under them, checked against the workflow's inputs. Shared by the
// chat service and the triggers, whose runs are chats too.
#pragma once

#include <string>

#include "base/result.h"
#include "core/workflow/engine_workflow.h"
#include "runtime/store.h"
#include "services/agent/chat_service.h"
#include "services/storage/chats.h"
#include "services/storage/preset_library.h"

namespace reliant::agent {

// The run a message of `chat` starts: the message's workflow else the chat's, the chat's inputs
// with the message's on top (and its model, mode and turn limit where the workflow takes them),
// checked against the workflow's inputs; `default_model` fills a model nobody gave. `presets`:
// the user's preset library as the chat sees it, when the caller read it already.
// invalid_argument names what is wrong.
Result<workflow::RunRequest> chat_run_request(SqlTransaction& tx, const ChatRecord& chat,
                                              const SendOptions& options,
                                              const std::string& default_model,
                                              const std::string& run_id,
                                              const PresetLibrary* presets = nullptr);

}  // namespace reliant::agent
