#!/usr/bin/env bash
# Triggers on a real monolith, from the CLI and over REST:
#   - a schedule every 2 s (`reliant trigger create --interval 2s`) starts a run per instant:
#     its firings (`reliant trigger events`) are launched once each, each instant once, and
#     disabled it fires no more;
#   - a webhook with an HMAC: a bad signature and a wrong token are refused alike (404); a good
#     delivery starts one run, and the same delivery sent again starts nothing (its firing is
#     found, `duplicate`); a body over 1 MiB is refused (413); the payload reaches the run's
#     inputs through the declaration's mapping;
#   - a workflow-event trigger: a run of builtin://… that finishes starts its follow-up;
#   - bad input gets a clear error: an invalid cron, an unknown zone, a workflow that does not
#     validate, an input the workflow lacks.
# Usage: triggers_monolith.sh RELIANT_BINARY
set -euo pipefail
reliant=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/monolith_lib.sh"
monolith_setup
start_monolith
cli() { "$reliant" "$@" --server "$api" --token "$token"; }
expect_refusal() {  # PATTERN COMMAND...
  local pattern=$1
  shift
  if out=$(cli "$@" 2>&1); then fail "\`reliant $*\` was not refused: $out"; fi
  grep -qF "$pattern" <<<"$out" || fail "\`reliant $*\` said: $out (expected '$pattern')"
}
project=$(rest POST /api/v1/projects "{\"name\":\"p\",\"path\":\"$work/ws\"}" | json 'd["id"]')
[ "$(status)" = 201 ] || fail "project: $(cat "$work/body")"
rest POST "/api/v1/projects/$project/workflows" \
  "$(python3 -c 'import json,sys; print(json.dumps({"source": open(sys.argv[1]).read()}))' "$here/triggers/note.yaml")" >/dev/null
[ "$(status)" = 201 ] || fail "storing note.yaml: $(cat "$work/body")"

# Bad input first: each refused with what is wrong.
expect_refusal "minute" trigger create --name bad --project "$project" --workflow note --cron "61 * * * *"
expect_refusal "unknown IANA time zone: Mars/Olympus" trigger create --name bad --project "$project" \
  --workflow note --cron "0 9 * * *" --timezone Mars/Olympus
expect_refusal "does not validate" trigger create --name bad --workflow builtin://nosuch --interval 1m
expect_refusal "has no input 'nosuch'" trigger create --name bad --project "$project" --workflow note \
  --interval 1m --param nosuch=1

# A schedule every 2 s.
cli trigger create --name every2s --project "$project" --workflow note --interval 2s --overlap allow \
  --param line=tick --param log=ticks.txt >"$work/create.out" 2>&1 || fail "create: $(cat "$work/create.out")"
sleep 11
cli trigger disable every2s >/dev/null || fail "disable refused"
disabled_at=$(date +%s%3N)
cli trigger events every2s --limit 50 --json >"$work/events.json" || fail "events"
python3 - "$work/events.json" <<'PY' || fail "schedule firings: $(cat "$work/events.json")"
import json, sys
events = json.load(open(sys.argv[1]))["events"]
launched = [e for e in events if e["status"] == "launched"]
instants = [e["instant_ms"] for e in launched]
assert len(launched) >= 4, f"{len(launched)} launched in 11 s"
assert len(set(instants)) == len(instants), "an instant fired twice"
assert all(e["run_id"] for e in launched), "a launched firing without its run"
steps = sorted(b - a for a, b in zip(sorted(instants), sorted(instants)[1:]))
assert all(s % 2000 == 0 for s in steps), f"instants not 2 s apart: {steps}"
print(f"{len(launched)} launched, instants 2 s apart")
PY
sleep 4
after=$(cli trigger events every2s --limit 50 --json | python3 -c '
import json, sys; print(sum(1 for e in json.load(sys.stdin)["events"] if e["created_at_ms"] > int(sys.argv[1])))' "$disabled_at")
[ "$after" = 0 ] || fail "a disabled schedule fired $after more times"
for _ in $(seq 1 50); do [ "$(wc -l <"$work/ws/ticks.txt")" -ge 4 ] && break; sleep 0.2; done
[ "$(sort -u "$work/ws/ticks.txt")" = "tick" ] || fail "the runs wrote: $(cat "$work/ws/ticks.txt")"

store_workflow() {  # FILE
  rest POST "/api/v1/projects/$project/workflows" \
    "$(python3 -c 'import json,sys; print(json.dumps({"source": open(sys.argv[1]).read()}))' "$1")" >/dev/null
  [ "$(status)" = 201 ] || fail "storing $1: $(cat "$work/body")"
}
store_workflow "$here/triggers/hooked.yaml"
store_workflow "$here/triggers/follow_up.yaml"

# A signed webhook, activated from the workflow's declaration.
printf 'a-shared-secret-of-some-length\n' >"$work/secret"
cli trigger create --project "$project" --workflow hooked --declaration push \
  --secret-file "$work/secret" >"$work/hook.out" 2>&1 || fail "webhook: $(cat "$work/hook.out")"
hook_path=$(sed -n 's/^webhook: POST \([^ ]*\) .*/\1/p' "$work/hook.out")
hook_token=$(sed -n 's/^token (shown once): //p' "$work/hook.out")
[ -n "$hook_path" ] && [ -n "$hook_token" ] || fail "no webhook path or token: $(cat "$work/hook.out")"
deliver() {  # BODY SIGNATURE_SECRET [EXTRA CURL ARGS…] → the status; the answer in $work/hook.json
  local body=$1 key=$2
  shift 2
  local signature
  signature=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$key" | sed 's/^.*= //')
  curl -s -o "$work/hook.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -H "X-Hub-Signature-256: sha256=$signature" "$@" --data-binary "$body" "$api$hook_path"
}
push='{"ref":"refs/heads/main","head":"abc123"}'
[ "$(deliver "$push" wrong-secret-entirely)" = 404 ] || fail "a bad signature: $(cat "$work/hook.json")"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary "$push" "$api$hook_path/not-the-token")
[ "$code" = 404 ] || fail "a wrong token: $code"
[ "$(deliver "$push" a-shared-secret-of-some-length -H 'Idempotency-Key: d-1')" = 202 ] ||
  fail "a good delivery: $(cat "$work/hook.json")"
first_run=$(json 'd["run_id"]' <"$work/hook.json")
[ -n "$first_run" ] || fail "no run: $(cat "$work/hook.json")"
[ "$(deliver "$push" a-shared-secret-of-some-length -H 'Idempotency-Key: d-1')" = 202 ] ||
  fail "the same delivery again: $(cat "$work/hook.json")"
[ "$(json 'd["duplicate"], d["run_id"]' <"$work/hook.json")" = "True $first_run" ] ||
  fail "the second delivery started something: $(cat "$work/hook.json")"
# Without an idempotency key, the same body within the replay window is the same delivery.
deliver "$push" a-shared-secret-of-some-length >/dev/null
deliver "$push" a-shared-secret-of-some-length >/dev/null
[ "$(json 'd["duplicate"]' <"$work/hook.json")" = True ] || fail "a resent body: $(cat "$work/hook.json")"
[ "$(deliver '{"ref":"refs/heads/dev","head":"x"}' a-shared-secret-of-some-length)" = 202 ] ||
  fail "a filtered delivery: $(cat "$work/hook.json")"
[ "$(json 'd["status"]' <"$work/hook.json")" = skipped ] || fail "the filter: $(cat "$work/hook.json")"
# Bytes that are not UTF-8, in the body and in a header: the delivery is taken (its payload has
# U+FFFD in their place; filtered out here, it has no ref) and the server stays up (storing the
# payload threw on a pool thread, which ended the process).
[ "$(deliver "$(printf 'ref \xff\xfe')" a-shared-secret-of-some-length -H "$(printf 'X-Note: caf\xe9')")" = 202 ] ||
  fail "a delivery of bytes that are not UTF-8: $(cat "$work/hook.json")"
curl -sf "$api/health" >/dev/null || fail "the monolith did not survive a delivery of bytes that are not UTF-8"
# Over 1 MiB: refused before anything is read.
head -c $((1024 * 1024 + 10)) /dev/zero | tr '\0' 'a' >"$work/big"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$work/big" \
  -H "Authorization: Bearer $hook_token" "$api$hook_path")
[ "$code" = 413 ] || fail "a body over 1 MiB: $code"
# Two deliveries ran (one with its key, one by its body), each once.
for _ in $(seq 1 100); do [ "$(wc -l <"$work/ws/hooks.txt" 2>/dev/null || echo 0)" -ge 2 ] && break; sleep 0.1; done
sleep 1
[ "$(tr '\n' ' ' <"$work/ws/hooks.txt")" = "abc123 abc123 " ] ||
  fail "the webhook's runs wrote: $(cat "$work/ws/hooks.txt" 2>&1)"

# A run of note that finishes starts its follow-up.
cli trigger create --project "$project" --workflow follow-up --declaration after-note >/dev/null ||
  fail "the workflow-event trigger was refused"
sleep 0.1
cli workflow run note --project "$project" --input line=first-note --input log=first.txt >/dev/null ||
  fail "the note run did not start"
for _ in $(seq 1 150); do [ -s "$work/ws/follow.txt" ] && break; sleep 0.1; done
[ "$(cat "$work/ws/follow.txt" 2>&1)" = "after first-note" ] ||
  fail "the follow-up wrote: $(cat "$work/ws/follow.txt" 2>&1)"
sleep 3
[ "$(wc -l <"$work/ws/follow.txt")" = 1 ] || fail "the follow-up ran again: $(cat "$work/ws/follow.txt")"

echo PASS
