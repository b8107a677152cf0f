#!/usr/bin/env bash
# A model catalogue on a real monolith (`--models FILE`): two stand-in providers, an Anthropic
# one and an OpenAI one (fake_llm_provider.py, which writes down every request it gets), each
# serving one model of the catalogue.
#   - a workflow's two model calls, one asking for {tags: [flagship]} and one for
#     {tags: [cheap]}, each reach the provider of the model with that tag, under the provider's
#     own name for it; the flagship one thinks (thinking_level: high → a 16,384-token budget);
#   - each node's output names its model and its cost at the catalogue's prices;
#   - a node asking for a tag no model has fails the run, naming the tags;
#   - a malformed catalogue stops the monolith at start with file:line:column (exit 2);
#   - GET /api/v1/models lists the catalogue without keys or addresses;
#   - the providers' keys appear in no log.
# Usage: models_monolith.sh REL_BINARY
set -euo pipefail
reliant=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/monolith_lib.sh"
monolith_setup

providers=()
for provider in anthropic openai; do
  python3 "$here/fake_llm_provider.py" "$work/$provider.port" "$work/$provider.requests" \
    >"$work/$provider.out" 2>&1 &
  providers+=($!)
done
trap 'kill "${providers[@]}" 2>/dev/null || true; monolith_cleanup' EXIT
for provider in anthropic openai; do
  for _ in $(seq 1 50); do [ -s "$work/$provider.port" ] && break; sleep 0.1; done
  [ -s "$work/$provider.port" ] || fail "the stand-in $provider provider did not start"
done
printf 'sk-openai-file-key-4242\n' >"$work/openai.key"
cat >"$work/models.yaml" <<EOF2
default: swift
providers:
  claude:
    kind: anthropic
    base_url: http://127.0.0.1:$(cat "$work/anthropic.port")
    api_key_env: TEST_CLAUDE_KEY
  gpt:
    kind: openai
    base_url: http://127.0.0.1:$(cat "$work/openai.port")/v1
    api_key_file: $work/openai.key
models:
  - name: deep
    provider: claude
    api_model: claude-deep-1
    tags: [flagship, reasoning]
    thinking: true
    prices: {input_per_mtok: 15, output_per_mtok: 75}
  - name: swift
    provider: gpt
    api_model: gpt-swift-1
    tags: [cheap, fast]
    prices: {input_per_mtok: 0.5, output_per_mtok: 1.5}
EOF2

# A malformed catalogue: refused at start, at its line and column.
printf 'providers: {p: {kind: bard}}\nmodels: [{name: a, provider: p}]\n' >"$work/bad.yaml"
code=0
"$reliant" monolith --data-dir "$work/bad-data" --api-port "$port" --disable-tls \
  --working-dir "$work/ws" --models "$work/bad.yaml" >"$work/bad.log" 2>&1 || code=$?
[ "$code" = 2 ] || fail "a malformed catalogue: exit $code"
grep -q "bad.yaml:1:23: provider \"p\": kind must be anthropic, openai or scripted" "$work/bad.log" ||
  fail "no line and column: $(cat "$work/bad.log")"

monolith_args=(--models "$work/models.yaml")
start_monolith TEST_CLAUDE_KEY=sk-ant-env-key-1717

run_yaml() {  # YAML: starts it, waits for its end; prints the run's JSON
  local body run
  body=$(python3 -c 'import json,sys; print(json.dumps({"source": sys.argv[1]}))' "$1")
  run=$(curl -s -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$body" \
    "$api/api/v1/workflows/runs" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
  for _ in $(seq 1 300); do
    curl -s -H "Authorization: Bearer $token" "$api/api/v1/runs/$run" >"$work/run.json"
    grep -Eq '"status": ?"(completed|failed|cancelled)"' "$work/run.json" && break
    sleep 0.1
  done
  cat "$work/run.json"
}

run_yaml "$(cat <<'EOF2'
name: two-models
entry: strong
outputs:
  strong_model: "{{ nodes.strong.model }}"
  strong_cost: "{{ nodes.strong.cost }}"
  light_model: "{{ nodes.light.model }}"
  light_cost: "{{ nodes.light.cost }}"
nodes:
  - id: strong
    type: call_llm
    args:
      model: {tags: [flagship]}
      thinking_level: high
      temperature: 0.5
      messages: [{role: user, content: "first question"}]
  - id: light
    type: call_llm
    args:
      model: {tags: [cheap]}
      messages: [{role: user, content: "second question"}]
edges:
  - {from: strong, to: light}
EOF2
)" >"$work/two.json"
python3 - "$work/two.json" "$work/anthropic.requests" "$work/openai.requests" <<'PY' ||
import json, sys
run = json.load(open(sys.argv[1]))
assert run["status"] == "completed", run
out = run["result"]["outputs"] if "outputs" in run.get("result", {}) else run["result"]
assert out["strong_model"] == "deep" and out["light_model"] == "swift", out
assert abs(out["strong_cost"] - (1000 * 15 + 500 * 75) / 1e6) < 1e-9, out
assert abs(out["light_cost"] - (1000 * 0.5 + 500 * 1.5) / 1e6) < 1e-9, out
(anthropic,) = [json.loads(l)["body"] for l in open(sys.argv[2])]
(openai,) = [json.loads(l)["body"] for l in open(sys.argv[3])]
assert anthropic["model"] == "claude-deep-1", anthropic["model"]
assert "first question" in json.dumps(anthropic["messages"]), anthropic["messages"]
assert anthropic["thinking"] == {"type": "enabled", "budget_tokens": 16384}, anthropic.get("thinking")
assert "temperature" not in anthropic  # the API takes none with thinking
assert openai["model"] == "gpt-swift-1", openai["model"]
assert "second question" in json.dumps(openai["messages"]), openai["messages"]
assert "reasoning_effort" not in openai  # swift does not think
PY
  fail "the two calls did not reach their models' providers: $(cat "$work/two.json")"

run_yaml "$(cat <<'EOF2'
name: no-such-tag
entry: ask
nodes:
  - id: ask
    type: call_llm
    args:
      model: {tags: [local]}
      messages: [{role: user, content: "anyone?"}]
EOF2
)" >"$work/none.json"
grep -q '"status": *"failed"' "$work/none.json" && grep -q 'no model has any of the tags \[local\]' "$work/none.json" ||
  fail "an unknown tag: $(cat "$work/none.json")"

# The catalogue as clients see it: names, tags, prices; never a key or a provider's address.
curl -s -H "Authorization: Bearer $token" "$api/api/v1/models" >"$work/models.json"
python3 - "$work/models.json" <<'PY' || fail "GET /api/v1/models: $(cat "$work/models.json")"
import json, sys
listed = json.load(open(sys.argv[1]))
assert listed["default"] == "swift", listed
by_name = {m["name"]: m for m in listed["models"]}
assert by_name["deep"]["tags"] == ["flagship", "reasoning"] and by_name["deep"]["thinking"], by_name
assert by_name["swift"]["provider_kind"] == "openai", by_name
assert "127.0.0.1" not in json.dumps(listed) and "sk-" not in json.dumps(listed), listed
PY

for key in sk-ant-env-key-1717 sk-openai-file-key-4242; do
  ! grep -rq "$key" "$work"/*.log || fail "a provider key is in a log"
done
grep -q "x-api-key\|authorization" "$work/anthropic.requests" && fail "the stand-in logged a key header"
echo "models_monolith: ok"
