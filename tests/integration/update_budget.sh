#!/usr/bin/env bash
# The update budget on a real monolith (commit 5f003cb, after a security review: "200 SSE update
# streams that never read took the monolith to 2.1 GB, and the memory is not returned after they
# leave"). Each update stream's feed is bounded by itself (8 MiB queued); only the per-process
# UpdateBudget (api::kUpdateBudgetBytes, 256 MiB, shared by the REST and gRPC streams) bounds
# them all together: past it the streams holding the most give up, each ending with a ": ..."
# comment, and their clients resume with Last-Event-ID. The test:
#   1. opens 200 update streams whose clients read the response's first bytes and then nothing,
#      then posts 32 messages of 128 KiB to one chat: every stream is sent ~3 x 128 KiB a
#      message (the user's "message" event, the scripted model's text delta and its answer, both
#      of which echo the text), ~12 MiB in all, far more than its share of the budget
#      (256 MiB / 200 = 1.3 MiB) and past its own 8 MiB;
#   2. checks that the monolith's peak RSS grows by less than $bound_mib, where the per-stream
#      bounds alone allow 200 x 8 MiB = 1.6 GiB (a build without the budget grows by 1713 MiB
#      here, and gives none of it back); that /health answers within 1 s throughout; that the
#      server ends the streams past the budget (drained, each ends with the budget's comment and
#      the end of the body); that a client resuming with Last-Event-ID gets every event after
#      its last one (numbers 1..head with no gap, every posted message at the number its POST
#      returned, in order); and that once the streams are closed the RSS falls back (every
#      server calls malloc_trim every 30 s).
# Why this load (an earlier try, 200 streams with a 4 KiB SO_RCVBUF and 10 MiB of 200 KiB
# messages, peaked at ~400 MiB both with and without the budget):
#   - a small SO_RCVBUF on the client does not make the server hold the data: the server's send
#     buffer autotunes from the connection's MSS, to ~3.9 MB on loopback's 64 KiB MSS, so the
#     kernel takes the first ~3.8 MiB of every stream (750 MiB of kernel socket memory for 200,
#     which RSS does not show). The clients here also set a 1 KiB MSS (TCP_MAXSEG): the send
#     buffer stays at ~70 KB, and what they do not read stays in the server;
#   - a chat answers one message at a time: a message to a chat still answering is refused
#     with 409 (a poster that does not wait loses most of its messages); each message here waits
#     for the previous answer;
#   - the pace: every announcement is decoded and encoded once per live stream on the server's
#     loop, and with 4 chats posting at once /health missed its second a few times (1 to 10 of
#     ~90 probes) while all 200 streams were still live, before the budget had made any give
#     up; one chat at a time keeps each burst short (slowest probe ~0.35 s);
#   - without the budget a feed past its own 8 MiB drops its queue, so the peak is reached just
#     before the streams overflow, all together since they get the same events: the peak is
#     sampled every 20 ms, not read at the end.
#   update_budget.sh RELIANT_BINARY [STREAMS]
# (STREAMS: 200 by default; at most ~240, the connections of one address being capped at 256.)
set -euo pipefail
reliant=$1
streams=${2:-200}
messages=32      # to one chat, each after the previous answer
text_kib=128     # the limit is 256 KiB of text
# The bound on the peak RSS growth, 2.5 x the budget: the budget itself (what the feeds queue
# and what each stream holds while writing), what the monolith grows by for this posting with
# no stream open (~60 MiB: the chat's runs, SQLite), what the budget does not count (each
# stream that gave up keeps its last frame in its connection until the client reads: ~30 MiB
# for 200) and transient copies and memory freed but not yet given back, which glibc keeps
# until the next malloc_trim and jemalloc for its decay time (up to about the budget again).
# Measured: 333-337 MiB (330-410 MiB with 4 chats posting at once).
bound_mib=640
# After the streams close, the RSS must come back to within this much of its start within 40 s
# (glibc's allocator: malloc_trim every 30 s, measured 32 MiB above the start 11-14 s after the
# close; jemalloc, the shipping binary's: its background thread returns pages unused for 10 s,
# measured 122-127 MiB above the start 1.5-3 s after the close).
after_mib=128
# Past this growth the poster stops: the bound has failed already, and the machine is spared.
stop_mib=3072
here=$(dirname "$0")
source "$here/monolith_lib.sh"
monolith_setup
start_monolith
started=$(date +%s)

# /health every 250 ms until the end: "CODE SECONDS WHEN" lines in $work/health.log, "000 1.00…"
# for a probe with no answer within its second.
(
  while kill -0 "$pid" 2>/dev/null && [ ! -e "$work/health.stop" ]; do
    at=$(date +%s.%N)
    curl -s -o /dev/null -m 1 -w "%{http_code} %{time_total} $at\n" "$api/health" \
      >>"$work/health.log" || true
    sleep 0.25
  done
) &
sample_peak_rss  # into $work/peak_kib

# The streams, the messages, and the checks on them, in one process that holds the sockets.
python3 - "$api" "$token" "$pid" "$work/peak_kib" "$streams" "$messages" "$text_kib" \
  "$bound_mib" "$after_mib" "$stop_mib" >"$work/driver.log" 2>&1 <<'PY' \
  || fail "$(grep '^FAIL: ' "$work/driver.log" | cut -c7-)"
import json, re, selectors, socket, sys, time, urllib.request

api, token, pid, peak_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
streams_n, messages_n, text_kib, bound_mib, after_mib, stop_mib = map(int, sys.argv[5:11])
host, port = api.split("//")[1].split(":")
port = int(port)

def say(text):
    print(text, flush=True)

def fail(text):
    say("FAIL: " + text)
    sys.exit(1)

def rss_mib():
    with open(f"/proc/{pid}/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmRSS:")) // 1024

def peak_mib():
    return int(open(peak_file).read()) // 1024

def call(method, path, body=None):
    request = urllib.request.Request(
        api + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)

class Sse:
    """One update stream on a raw socket: the HTTP head, the chunked body, the SSE frames. Keeps
    only what the checks need (the numbers, the posted messages' marks, the comments), not the
    bodies: 200 streams of ~12 MiB would not fit in this process."""
    # A user message's text (the answer's starts "You said: ").
    MARK = re.compile(rb'"text":"m(\d{3}) ')

    def __init__(self, sock):
        self.sock, self.buf, self.state, self.chunk_left = sock, bytearray(), "head", 0
        self.line, self.frame_id, self.frame_kind, self.frame_mark = bytearray(), None, None, None
        self.ids, self.marks, self.comments, self.eof, self.body_ended = [], [], [], False, False

    def feed(self, data):
        self.buf += data
        while self.buf and not self.body_ended:
            if self.state == "head":
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                status = bytes(self.buf[:self.buf.find(b"\r\n")])
                if b" 200 " not in status:
                    fail(f"an update stream was answered {status!r}")
                del self.buf[:end + 4]
                self.state = "size"
            elif self.state == "size":  # a chunk's size line
                end = self.buf.find(b"\r\n")
                if end < 0:
                    return
                self.chunk_left = int(bytes(self.buf[:end]).split(b";")[0], 16)
                del self.buf[:end + 2]
                self.state = "data"
                self.body_ended = self.chunk_left == 0  # the last chunk: the body's end
            elif self.state == "data":
                take = min(self.chunk_left, len(self.buf))
                self.body(bytes(self.buf[:take]))
                del self.buf[:take]
                self.chunk_left -= take
                if self.chunk_left == 0:
                    self.state = "crlf"
            else:  # the CRLF after a chunk's data
                if len(self.buf) < 2:
                    return
                del self.buf[:2]
                self.state = "size"

    def body(self, data):
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                self.line += data[start:]
                return
            self.line += data[start:end]
            self.sse_line(bytes(self.line))
            self.line = bytearray()
            start = end + 1

    def sse_line(self, line):
        if line == b"":  # the end of a frame: only whole frames count
            if self.frame_id is not None:
                self.ids.append(self.frame_id)
                if self.frame_mark is not None:
                    self.marks.append((self.frame_id, self.frame_mark))
            self.frame_id, self.frame_kind, self.frame_mark = None, None, None
        elif line.startswith(b":"):
            self.comments.append(line[1:].strip().decode(errors="replace"))
        elif line.startswith(b"id: "):
            self.frame_id = int(line[4:])
        elif line.startswith(b"event: "):
            self.frame_kind = line[7:]
        elif line.startswith(b"data: ") and self.frame_kind == b"message":
            mark = self.MARK.search(line, 0, 400)
            self.frame_mark = int(mark.group(1)) if mark else None

    def last_id(self):
        return self.ids[-1] if self.ids else 0

def open_stream(slow=False, since=None):
    sock = socket.socket()
    if slow:
        # A 4 KiB receive buffer and a 1 KiB MSS: the server's send buffer autotunes from the
        # MSS (~3.9 MB on loopback's 64 KiB one, ~70 KB with this), so the kernel takes ~50 KB
        # of each stream rather than ~3.8 MiB, and what the client does not read stays in the
        # server.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1024)
    sock.connect((host, port))
    resume = f"Last-Event-ID: {since}\r\n" if since is not None else ""
    sock.sendall(f"GET /api/v1/updates HTTP/1.1\r\nHost: {host}\r\n"
                 f"Authorization: Bearer {token}\r\n{resume}\r\n".encode())
    return Sse(sock)

def read_until(stream, done, seconds):
    stream.sock.settimeout(seconds)
    deadline = time.monotonic() + seconds
    while not done(stream):
        if time.monotonic() > deadline:
            return False
        try:
            data = stream.sock.recv(1 << 20)
        except socket.timeout:
            return done(stream)
        if not data:
            stream.eof = True
            return done(stream)
        stream.feed(data)
    return True

base_mib = rss_mib()

# 1. The streams: each reads its head and the stream's first comment, then nothing. Opened 50 at
# a time, so that connections not yet authenticated never pile up past the server's pool for them.
opened = []
for first in range(0, streams_n, 50):
    batch = [open_stream(slow=True) for _ in range(min(50, streams_n - first))]
    for stream in batch:
        if not read_until(stream, lambda s: s.comments, 10):
            fail(f"update stream {len(opened)} did not start within 10 s")
        opened.append(stream)
say(f"ok   {len(opened)} update streams open, not reading; RSS {base_mib} MiB before them")

# 2. The messages, to one chat, each once the previous one is answered. Message k's text starts
# "mKKK " so that its event can be told in the streams; its POST answers the event's number.
chat = call("POST", "/api/v1/chats", {"title": "budget"})["id"]
posted = {}  # k -> the number of its "message" event
t0 = time.monotonic()
for k in range(messages_n):
    if rss_mib() - base_mib > stop_mib:
        fail(f"the monolith grew by more than {stop_mib} MiB after {k} messages: the posting"
             f" stopped (peak growth {peak_mib() - base_mib} MiB; at most {bound_mib} MiB"
             f" expected)")
    sent = call("POST", f"/api/v1/chats/{chat}/messages",
                {"text": f"m{k:03d} " + "x" * (text_kib * 1024 - 5)})
    posted[k] = sent["seq"]
    while call("GET", f"/api/v1/chats/{chat}")["status"] == "running":
        if time.monotonic() - t0 > 120:
            fail(f"message {k} still unanswered 120 s after the posting began")
        time.sleep(0.05)
time.sleep(1)  # what was announced last reaches the feeds
posting_s = time.monotonic() - t0
head = call("GET", "/api/v1/updates/head")["seq"]
grown = peak_mib() - base_mib
say(f"     posted {messages_n} messages of {text_kib} KiB in {posting_s:.1f} s (head {head});"
    f" peak RSS {peak_mib()} MiB, {grown} MiB above the start; now {rss_mib()} MiB")
if grown >= bound_mib:
    fail(f"{streams_n} streams that do not read grew the monolith by {grown} MiB (at most"
         f" {bound_mib} MiB expected: the 256 MiB update budget and overhead)")
say(f"ok   peak RSS growth {grown} MiB < {bound_mib} MiB")

# 3. The clients read what they were sent. A stream the server gave up on ends, after what its
# connection held, with a comment and the end of its body; a stream still served goes quiet.
selector = selectors.DefaultSelector()
for stream in opened:
    stream.sock.setblocking(False)
    selector.register(stream.sock, selectors.EVENT_READ, stream)
t1 = quiet_since = time.monotonic()
while selector.get_map() and time.monotonic() - quiet_since < 3 and time.monotonic() - t1 < 40:
    for key, _ in selector.select(timeout=0.5):
        stream = key.data
        try:
            data = stream.sock.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            continue
        except ConnectionError:
            data = b""
        quiet_since = time.monotonic()
        if data:
            stream.feed(data)
        else:
            stream.eof = True
            selector.unregister(stream.sock)
ended = [s for s in opened if s.eof and s.body_ended and s.comments]
by_budget = [s for s in ended if "held the most" in s.comments[-1]]
by_own = [s for s in ended if "too slowly" in s.comments[-1]]
say(f"     drained in {time.monotonic() - t1:.1f} s: {len(ended)} of {streams_n} streams ended by"
    f" the server ({len(by_budget)} for the budget, {len(by_own)} past their own 8 MiB),"
    f" {sum(1 for s in opened if not s.eof)} still open")
# The budget holds ~256 MiB / 8 MiB = 32 streams' own bound at most: most must give up for it.
if len(by_budget) < streams_n // 2:
    fail(f"{len(by_budget)} of {streams_n} streams ended for the budget; the last comments:"
         f" {sorted({s.comments[-1][:100] for s in opened if s.comments})}")
say(f"ok   {len(by_budget)} streams ended for the budget with \": {by_budget[0].comments[-1]}\"")
# The number each ending names is where its client resumes: never past the last event it got
# (a batch goes out in pieces; one cut short once named the batch's end, skipping the rest).
for s in ended:
    named = re.search(r"resume from since_seq (\d+)", s.comments[-1])
    if not named or int(named.group(1)) > s.last_id():
        fail(f"a stream that got events up to {s.last_id()} was told: {s.comments[-1]}")
say("ok   each ending names a resume point no further than the stream's last event")

# 4. Resume: streams that ended (the one that got least, one from the middle, the one that got
# most) reconnect with Last-Event-ID and must get every event after it, and nothing else.
by_last = sorted(ended, key=lambda s: s.last_id())
want_marks = sorted((seq, k) for k, seq in posted.items())
for before in {id(s): s for s in (by_last[0], by_last[len(by_last) // 2], by_last[-1])}.values():
    if before.ids != list(range(1, len(before.ids) + 1)):
        fail(f"a stream had a gap or a duplicate before it ended: {before.ids[:20]}...")
    after = open_stream(since=before.last_id())
    if not read_until(after, lambda s: s.last_id() >= head, 30):
        fail(f"resumed from {before.last_id()}: up to {after.last_id()} of {head} within 30 s")
    after.sock.close()
    if before.ids + after.ids != list(range(1, head + 1)):
        fail(f"resumed from {before.last_id()}: the numbers are not 1..{head} without a gap:"
             f" {after.ids[:20]}...")
    if before.marks + after.marks != want_marks:
        fail(f"resumed from {before.last_id()}: the messages came as {before.marks + after.marks},"
             f" not {want_marks}")
    say(f"ok   resumed from {before.last_id()}: events {before.last_id() + 1}..{head}, each"
        f" message at its number, in order")

# 5. The streams close: the memory goes back to the system (malloc_trim runs every 30 s).
for stream in opened:
    stream.sock.close()
t2 = time.monotonic()
while rss_mib() - base_mib > after_mib:
    if time.monotonic() - t2 > 40:
        fail(f"40 s after the streams closed the monolith still holds {rss_mib()} MiB"
             f" ({rss_mib() - base_mib} MiB above its start; at most {after_mib} expected)")
    time.sleep(0.5)
fall_s = time.monotonic() - t2
say(f"ok   streams closed: RSS {rss_mib()} MiB ({rss_mib() - base_mib} MiB above the start)"
    f" {fall_s:.1f} s later")
say(f"     figures: streams {streams_n}, peak growth {grown} MiB, ended {len(ended)}"
    f" ({len(by_budget)} budget, {len(by_own)} own bound), posting {posting_s:.1f} s,"
    f" fall {fall_s:.1f} s")
PY
cat "$work/driver.log"
touch "$work/health.stop"
kill "$sampler" 2>/dev/null || true
sleep 0.5
# /health: every probe answered 200 within its second.
probes=$(wc -l <"$work/health.log")
slowest=$(sort -k2 -n "$work/health.log" | tail -n 1 | cut -d' ' -f2)
if grep -qv '^200 ' "$work/health.log"; then
  fail "/health: $(grep -cv '^200 ' "$work/health.log") of $probes probes not answered 200" \
    "within 1 s:" \
    "$(grep -v '^200 ' "$work/health.log" | head -n 5 | tr '\n' ' ')"
fi
echo "ok   /health: $probes probes, each answered within 1 s (slowest ${slowest} s)"
kill -0 "$pid" 2>/dev/null || fail "the monolith died"
echo "update_budget: ok ($(($(date +%s) - started)) s)"
