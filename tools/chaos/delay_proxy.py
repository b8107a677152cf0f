#!/usr/bin/env python3
"""A TCP proxy that adds latency, for the chaos harness's latency fault.

Why: this machine's kernel has no sch_netem (tc reports "qdisc kind is unknown"), so latency
cannot be added on the veth with `tc netem`. The daemon instead dials its gateways through this
proxy (listening on the root-side veth address); the delay is read from CONTROL_FILE every
100 ms ("MEAN_MS JITTER_MS", or absent/empty for none), so it can be switched on and off while
streams stay open. Each chunk is delivered after its own random delay, but never before the
chunk ahead of it in the same direction (TCP keeps its order).

  delay_proxy.py LISTEN_HOST CONTROL_FILE SEED LISTEN_PORT:TARGET_HOST:TARGET_PORT...
"""
import asyncio
import random
import sys
import time

listen_host, control_file, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
routes = [r.split(":") for r in sys.argv[4:]]
rng = random.Random(seed)  # the jitter sequence follows the harness's seed
delay = (0.0, 0.0)


async def watch_control():
    global delay
    while True:
        try:
            with open(control_file) as f:
                parts = f.read().split()
            new = (float(parts[0]) / 1000, float(parts[1]) / 1000) if parts else (0.0, 0.0)
        except (OSError, ValueError, IndexError):
            new = (0.0, 0.0)
        if new != delay:  # in the proxy's log: when the fault really took effect
            print(f"delay_proxy: {time.strftime('%T')} delay now {new[0] * 1000:.0f}±{new[1] * 1000:.0f} ms", flush=True)
            delay = new
        await asyncio.sleep(0.1)


async def pipe(reader, writer):
    """Copies one direction, each chunk held for mean±jitter, in order."""
    queue = asyncio.Queue()

    async def deliver():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(deliver())
    last_due = 0.0
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            mean, jitter = delay
            due = max(last_due, time.monotonic() + max(0.0, rng.uniform(mean - jitter, mean + jitter)))
            last_due = due
            await queue.put((due, data))
    except (ConnectionError, OSError):
        pass
    await queue.put((0, None))
    try:
        await sender
    except (ConnectionError, OSError):
        pass


def handler(target_host, target_port):
    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(target_host, int(target_port))
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer),
                             return_exceptions=True)
    return handle


async def main():
    asyncio.create_task(watch_control())
    servers = [await asyncio.start_server(handler(th, tp), listen_host, int(lp)) for lp, th, tp in routes]
    print(f"delay_proxy: listening on {listen_host} ports {[r[0] for r in routes]}", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


asyncio.run(main())
