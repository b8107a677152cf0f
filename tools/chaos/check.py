#!/usr/bin/env python3
"""The chaos harness's checkers: after a scenario healed and settled, judge the real cluster by
the simulator's invariant names, from the database (psql) and the client's own records.

  check.py RUN_DIR DATABASE_URL   print one line per invariant, then "VERDICT: ..."; exit 1 if any failed
  check.py --self-test            feed each checker a fabricated bad case and show that it fails

Gathering (database, files) is kept apart from judging (pure functions of a snapshot) so that
the self-test can prove every checker able to fail without breaking a real cluster.
"""
import collections
import json
import os
import subprocess
import sys

TERMINAL = {"completed", "failed", "cancelled"}
RUN_END_EVENTS = ("run_completed", "run_failed", "run_cancelled")


def sql(db_url, query):
    out = subprocess.run(["psql", db_url, "-qtAc", f"SELECT coalesce(json_agg(t), '[]') FROM ({query}) t"],
                         capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError(f"psql failed: {out.stderr.strip()}")
    return json.loads(out.stdout.strip() or "[]")


def gather(run_dir, db_url):
    records = [json.loads(l) for l in open(os.path.join(run_dir, "records.jsonl")) if l.strip()]
    answers, cross = {}, {}
    for r in records:
        path = os.path.join(run_dir, "answers", f"{r['n']}.json")
        try:
            answers[r["n"]] = json.load(open(path))
        except (OSError, ValueError):
            answers[r["n"]] = None
        try:  # the HTTP status of the other user's read of this chat
            cross[r["n"]] = int(open(os.path.join(run_dir, "answers", f"{r['n']}.cross")).read().strip())
        except (OSError, ValueError):
            pass
    ran_logs = {}  # by user: the markers each user's daemon ran
    for user, workspace in ((1, "workspace"), (2, "workspace-2")):
        try:
            ran_logs[user] = [l.strip() for l in open(os.path.join(run_dir, workspace, "ran.log")) if l.strip()]
        except OSError:
            ran_logs[user] = []
    alive, streams = set(), []
    for line in open(os.path.join(run_dir, "processes.txt")):
        parts = line.split()
        if parts[0] == "alive":
            alive.add(parts[1])
        elif parts[0] == "stream":
            streams.append({"daemon": parts[1], "peer": parts[2], "gateway": parts[3]})
    return {
        "records": records,
        "answers": answers,
        "cross": cross,
        "ran_logs": ran_logs,
        "runs": {r["id"]: r["status"] for r in sql(db_url, "SELECT id, status FROM workflow_runs")},
        "run_ends": {r["run_id"]: r["n"] for r in sql(
            db_url, "SELECT run_id, COUNT(*) AS n FROM workflow_history WHERE kind IN "
                    f"({','.join(repr(k) for k in RUN_END_EVENTS)}) GROUP BY run_id")},
        "chats": {r["id"]: r["status"] for r in sql(db_url, "SELECT id, status FROM chats")},
        "open_tasks": sql(db_url, "SELECT id, kind, status, attempt, lease_owner, visible_at_ms FROM engine_tasks "
                                  "WHERE status IN ('ready', 'leased')"),
        "open_tool_requests": sql(db_url, "SELECT request_id, status, daemon_id, run_id FROM tool_requests "
                                          "WHERE status <> 'completed'"),
        "daemons": sql(db_url, "SELECT id, name, status, gateway_id, lease_until_ms, "
                               "(extract(epoch from clock_timestamp()) * 1000)::bigint AS now_ms FROM daemons"),
        # Evidence that the faults bit (not an invariant): leases taken over, requests redelivered.
        # A retired task is deleted, so the count comes from the activities' answers in history.
        "retried_tasks": sql(db_url, "SELECT COUNT(*) AS n FROM workflow_history WHERE "
                                     "(kind = 'activity_completed' AND (body_json::jsonb->>'attempt')::int > 1) OR "
                                     "(kind = 'activity_failed' AND (body_json::jsonb->>'attempts')::int > 1)")[0]["n"],
        "alive": alive,
        "streams": streams,
    }


def final_answers(chat, marker):
    """Assistant text blocks that quote the command's output: the marker as a line of its own
    (the command itself, also quoted by the agent, has it only inside `echo …`)."""
    if not chat:
        return 0
    count = 0
    for m in chat.get("messages", []):
        if m.get("role") != "assistant":
            continue
        for block in m.get("content", []):
            if block.get("kind") == "text" and marker in block.get("body", {}).get("text", "").splitlines():
                count += 1
    return count


def chat_answers(s):
    bad, after_ok, ended, outcomes = [], 0, collections.Counter(), collections.Counter()
    for r in s["records"]:
        outcomes[r["outcome"]] += 1
        run_status = s["runs"].get(r["run_id"]) if r["run_id"] else None
        chat_status = s["chats"].get(r["chat_id"]) if r["chat_id"] else None
        if r["phase"] == "after":
            answers = final_answers(s["answers"].get(r["n"]), r["marker"])
            if r["outcome"] != "accepted":
                bad.append(f"{r['marker']} sent after healing was {r['outcome']} (apis tried: {r['apis']})")
            elif run_status != "completed" or answers != 1 or chat_status != "idle":
                bad.append(f"{r['marker']} (after healing): run {run_status}, chat {chat_status}, "
                           f"{answers} final answers quoting it")
            else:
                after_ok += 1
        else:
            if r["outcome"] == "accepted" and run_status not in TERMINAL:
                bad.append(f"{r['marker']} (during faults): run {r['run_id']} still {run_status}")
            elif r["chat_id"] and chat_status == "running":
                bad.append(f"{r['marker']} (during faults): chat {r['chat_id']} still running")
            elif r["outcome"] == "accepted":
                ended[run_status] += 1
                if final_answers(s["answers"].get(r["n"]), r["marker"]):
                    ended["with output"] += 1
    if not any(r["phase"] == "after" for r in s["records"]):
        bad.append("no message was sent after healing")
    detail = (f"{after_ok} after-heal answered once; fault-phase runs ended {dict(ended)}; "
              f"sends {dict(outcomes)}")
    return bad, detail


def tool_at_most_once(s):
    ran = [m for log in s["ran_logs"].values() for m in log]
    counts = collections.Counter(ran)
    bad = [f"{m} ran {n} times" for m, n in sorted(counts.items()) if n > 1]
    return bad, f"{len(ran)} executions of {len(counts)} markers, none twice" if not bad else ""


def tool_isolation(s):
    """Each user's commands ran on that user's daemon only."""
    user_of = {r["marker"]: r["user"] for r in s["records"]}
    bad = []
    for user, log in sorted(s["ran_logs"].items()):
        for marker in log:
            if user_of.get(marker) != user:
                bad.append(f"{marker} (user {user_of.get(marker, 'unknown')}) ran on user {user}'s daemon")
    return bad, f"{sum(len(l) for l in s['ran_logs'].values())} executions, each on its user's daemon"


def update_isolation(s):
    """Neither user can read the other's chats: the api answers 404, as for a chat that does not
    exist (the REST side of what the simulator checks on update streams)."""
    bad = [f"the other user's read of message {n}'s chat answered {status}, not 404"
           for n, status in sorted(s["cross"].items()) if status != 404]
    if not s["cross"]:
        bad.append("no chat was read as the other user")
    return bad, f"{len(s['cross'])} reads of a chat by the other user, all 404"


def daemon_liveness(s):
    bad = []
    for process in ("daemon", "daemon-2"):
        if process not in s["alive"]:
            bad.append(f"the {process} process is not running at the end")
    if len(s["daemons"]) != 2:
        bad.append(f"{len(s['daemons'])} daemons recorded, not 2")
    for d in s["daemons"]:
        if d["status"] != "active":
            bad.append(f"daemon {d['name']} recorded {d['status']}")
        elif d["gateway_id"] not in s["alive"]:
            bad.append(f"daemon {d['name']} recorded on gateway '{d['gateway_id']}', which is not running")
        elif (d["lease_until_ms"] or 0) < d["now_ms"]:
            bad.append(f"daemon {d['name']}'s lease on {d['gateway_id']} ran out "
                       f"{d['now_ms'] - (d['lease_until_ms'] or 0)} ms ago (no gateway renews it)")
    return bad, ", ".join(f"{d['name']} active on {d['gateway_id']}" for d in s["daemons"])


def daemon_routable(s):
    """The gateway each daemon's row names holds a TCP stream from that daemon, and no other
    gateway does (one session per daemon)."""
    bad, seen = [], []
    for d in s["daemons"]:
        # A stream whose gateway process is dead can still look established from the daemon's
        # side (a partition swallowed the reset): it routes nothing.
        holders = [st["gateway"] for st in s["streams"] if st["daemon"] == d["name"] and st["gateway"] in s["alive"]]
        if d["gateway_id"] not in holders:
            bad.append(f"daemon {d['name']} recorded on {d['gateway_id']}, but its streams go to {holders or 'nowhere'}")
        if len(holders) > 1:
            bad.append(f"daemon {d['name']} has more than one live stream: {holders}")
        seen.append(f"{d['name']} → {holders}")
    return bad, "streams: " + ", ".join(seen)


def queues_drain(s):
    bad = [f"engine task {t['id']} {t['status']} (kind {t['kind']}, attempt {t['attempt']}, owner {t['lease_owner']})"
           for t in s["open_tasks"]]
    bad += [f"tool request {t['request_id']} {t['status']} (run {t['run_id']})" for t in s["open_tool_requests"]]
    return bad, (f"no engine task ready/leased, no tool request open "
                 f"({s.get('retried_tasks', 0)} activities answered after more than one lease)")


def runs_end_once(s):
    bad = []
    for run_id, status in sorted(s["runs"].items()):
        ends = s["run_ends"].get(run_id, 0)
        if status not in TERMINAL:
            bad.append(f"run {run_id} is {status}")
        if ends != 1:
            bad.append(f"run {run_id} has {ends} end events")
    client_runs = {r["run_id"] for r in s["records"] if r["run_id"]}
    missing = client_runs - set(s["runs"])
    bad += [f"accepted run {m} has no workflow_runs row" for m in sorted(missing)]
    return bad, f"{len(s['runs'])} runs, each ended once"


CHECKERS = [chat_answers, tool_at_most_once, tool_isolation, update_isolation, daemon_liveness, daemon_routable,
            queues_drain, runs_end_once]


def judge(s):
    results = []
    for checker in CHECKERS:
        bad, detail = checker(s)
        results.append((checker.__name__, bad, detail))
    return results


def self_test():
    """A good snapshot passes everything; each fabricated fault makes exactly its checker fail."""
    chat = {"messages": [{"role": "assistant", "content": [{"kind": "text", "body": {"text": "`echo m1` printed:\nm1"}}]}]}
    good = {
        "records": [{"n": 1, "user": 1, "marker": "m1", "phase": "after", "apis": "1", "chat_id": "c1", "run_id": "r1",
                     "outcome": "accepted"},
                    {"n": 2, "user": 2, "marker": "m2", "phase": "fault", "apis": "1", "chat_id": "c2", "run_id": "r2",
                     "outcome": "accepted"}],
        "answers": {1: chat, 2: None},
        "cross": {1: 404, 2: 404},
        "ran_logs": {1: ["m1"], 2: ["m2"]},
        "runs": {"r1": "completed", "r2": "failed"},
        "run_ends": {"r1": 1, "r2": 1},
        "chats": {"c1": "idle", "c2": "failed"},
        "open_tasks": [], "open_tool_requests": [],
        "daemons": [{"id": "d", "name": "laptop", "status": "active", "gateway_id": "gateway-1", "lease_until_ms": 2000, "now_ms": 1000},
                    {"id": "e", "name": "desk", "status": "active", "gateway_id": "gateway-2", "lease_until_ms": 2000, "now_ms": 1000}],
        "alive": {"daemon", "daemon-2", "gateway-1", "gateway-2"},
        "streams": [{"daemon": "laptop", "peer": "10.0.0.1:1", "gateway": "gateway-1"},
                    {"daemon": "desk", "peer": "127.0.0.1:2", "gateway": "gateway-2"}],
    }
    cases = {
        "chat_answers": [lambda s: s["runs"].update(r2="running"),
                         lambda s: s["answers"].update({1: {"messages": chat["messages"] * 2}}),
                         lambda s: s["records"][0].update(outcome="rejected")],
        "tool_at_most_once": [lambda s: s["ran_logs"][1].append("m1"),
                              lambda s: s["ran_logs"][1].append("m2")],
        "tool_isolation": [lambda s: s["ran_logs"][1].append("m2"),
                           lambda s: s["ran_logs"][2].append("not-sent")],
        "update_isolation": [lambda s: s["cross"].update({2: 200}),
                             lambda s: s["cross"].clear()],
        "daemon_liveness": [lambda s: s["alive"].discard("gateway-1"),
                            lambda s: s["alive"].discard("daemon-2"),
                            lambda s: s["daemons"][0].update(status="idle"),
                            lambda s: s["daemons"][0].update(lease_until_ms=10)],
        "daemon_routable": [lambda s: s["streams"].__setitem__(0, {"daemon": "laptop", "peer": "x", "gateway": "gateway-2"}),
                            lambda s: s["alive"].discard("gateway-1"),
                            lambda s: s["streams"].append({"daemon": "laptop", "peer": "y", "gateway": "gateway-2"}),
                            lambda s: s["streams"].pop()],
        "queues_drain": [lambda s: s["open_tasks"].append({"id": "t", "kind": "activity", "status": "leased", "attempt": 1, "lease_owner": "worker-1"})],
        "runs_end_once": [lambda s: s["run_ends"].update(r1=2)],
    }
    import copy
    ok = True
    assert all(not bad for _, bad, _ in judge(good)), judge(good)
    print("self-test: the good snapshot passes every checker")
    for name, mutations in cases.items():
        for i, mutate in enumerate(mutations):
            s = copy.deepcopy(good)
            mutate(s)
            failed = {n: bad for n, bad, _ in judge(s) if bad}
            hit = name in failed
            ok &= hit
            print(f"self-test: {name} case {i + 1}: {'fails as it should' if hit else 'DID NOT FAIL'}: "
                  f"{failed.get(name, [''])[0]}")
    return 0 if ok else 1


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    run_dir, db_url = sys.argv[1], sys.argv[2]
    s = gather(run_dir, db_url)
    failed = []
    for name, bad, detail in judge(s):
        if bad:
            failed.append(f"{name}: {bad[0]}" + (f" (+{len(bad) - 1} more)" if len(bad) > 1 else ""))
            print(f"  {name}: FAILED")
            for b in bad[:10]:
                print(f"      {b}")
        else:
            print(f"  {name}: held — {detail}")
    verdict = "all held" if not failed else "FAILED " + "; ".join(failed)
    print(f"VERDICT: {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
