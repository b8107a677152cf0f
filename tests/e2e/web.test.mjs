// The web app end to end (run by run.sh against a live monolith): one process and one browser,
// as the monolith's sign-in link works once. The concerns run in this order, each in its file;
// after each test no page it opened may have logged an error.
import { after, afterEach } from "node:test";
import { closeBrowser, finishTest } from "./harness.mjs";
import "./chat.mjs";
import "./approvals.mjs";
import "./daemon_picker.mjs";
import "./terminal.mjs";
import "./files.mjs";
import "./resume.mjs";
import "./streaming.mjs";
import "./phone.mjs";
import "./security.mjs";
import "./mcp.mjs";
import "./daemons.mjs";
import "./questions.mjs";
import "./run_graph.mjs";
import "./settings.mjs";
import "./files_save.mjs";
import "./cancel.mjs";
import "./processes.mjs";
import "./titles.mjs";
import "./presets.mjs";
import "./provider_keys.mjs";
import "./subagents.mjs";
import "./run_control.mjs";
import "./triggers.mjs";

afterEach(finishTest);
after(closeBrowser);
