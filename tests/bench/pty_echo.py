#!/usr/bin/env python3
"""The floor of a terminal's keystroke echo: a shell on a bare pseudo-terminal (Python's pty, no
daemon, no network), typed into one character at a time, each timed until its echo is read back.
Prints one JSON line: {n, p50_us, p99_us, mean_us}.
  pty_echo.py [COUNT]"""
import json, os, pty, select, sys, time

count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
pid, fd = pty.fork()
if pid == 0:
    os.execvp("sh", ["sh"])

def drain(quiet_s):
    while select.select([fd], [], [], quiet_s)[0]:
        if not os.read(fd, 65536):
            return

drain(0.3)
samples = []
for i in range(count):
    key = chr(97 + i % 26).encode()
    start = time.perf_counter_ns()
    os.write(fd, key)
    seen = b""
    while key not in seen:
        select.select([fd], [], [])
        seen += os.read(fd, 65536)
    samples.append((time.perf_counter_ns() - start) / 1000)
    if i % 50 == 49:
        os.write(fd, b"\x15")
        drain(0.1)
os.write(fd, b"exit\n")
samples.sort()
at = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
print(json.dumps({"n": len(samples), "p50_us": round(at(0.5)), "p99_us": round(at(0.99)),
                  "mean_us": round(sum(samples) / len(samples))}))
