#!/usr/bin/python3
"""The bridge's status API and notifications under load (issue #20's
benchmark), on loopback: the fleet of bench/bridge_load.py (N printers,
half fake Moonraker, half fake OctoPrint, all printing, the Connect
emulator) with the status API on and a webhook channel to a receiver in
this process.

  1. --seconds with the API idle: the bridge's CPU (cores);
  2. --seconds with the API polled at --rate requests/s (per second: one
     /api/printers, one /metrics, the rest /api/printer/NAME of random
     printers) and one /api/events stream open (to the end): per endpoint
     latency p50/p99, the bridge's CPU; the difference is the CPU the API
     adds;
  3. notification latency: --pauses Moonraker printers, one every 100 ms,
     are paused through their fake Moonraker's JSON-RPC
     (printer.print.pause) and resumed; latency = the webhook's arrival of
     "<name>: PAUSED" minus the moment the pause was sent. p50/p99/max;
     the event stream's events meanwhile (a state event per pause).

    /usr/bin/python3 bench/bridge_api_load.py [--build build] [--printers 1000]
        [--seconds 30] [--rate 50] [--pauses 100]
Results: docs/PERFORMANCE.md ("Bridge status API and notifications").
"""
import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bridge_load import (fleet_args, launcher, percentile, proc_stat,  # noqa: E402
                         setup_fleet, stop_all, wait_file)


class Receiver:
    """The webhook's receiver: arrival time of each notification."""

    def __init__(self):
        self.arrivals = []
        self.lock = threading.Lock()
        recv = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                now = time.monotonic()
                with recv.lock:
                    recv.arrivals.append((now, json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def timed_get(url):
    t = time.monotonic()
    with urllib.request.urlopen(url, timeout=30) as r:
        r.read()
    return (time.monotonic() - t) * 1000


def cpu_window(pid, seconds):
    c0, _, _ = proc_stat(pid)
    t0 = time.monotonic()
    time.sleep(seconds)
    c1, _, _ = proc_stat(pid)
    return (c1 - c0) / (time.monotonic() - t0)


async def rpc(port, method):
    import tornado.websocket
    ws = await tornado.websocket.websocket_connect(f"ws://127.0.0.1:{port}/websocket")
    ws.write_message(json.dumps({"jsonrpc": "2.0", "method": method, "id": 1}))
    while True:
        msg = json.loads(await ws.read_message())
        if msg.get("id") == 1:
            ws.close()
            return msg


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    fleet_args(ap)
    ap.set_defaults(seconds=30)
    ap.add_argument("--rate", type=int, default=50)
    ap.add_argument("--pauses", type=int, default=100)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bridge-api-bench-")
    procs = []
    start = launcher(work, procs)
    receiver = Receiver()
    try:
        _, fps, config, _, _, ports = setup_fleet(
            args, work, start,
            ['api_listen = "127.0.0.1:0"', "api_rate_limit = 100000"],
            ["[[notify]]", 'name = "bench"', 'kind = "webhook"', f'url = "{receiver.url}"',
             "progress_every = 0", "job_started = false", "final_photo = false", ""])
        bexe = os.path.join(args.build, "examples/bridge/prusaconnect-bridge")
        b = start([bexe, "--config", config], "bridge")
        api_file = os.path.join(work, "state", "api-url")
        wait_file(api_file)
        api = open(api_file).read().strip()
        time.sleep(args.warmup)
        names = sorted(fps.values())

        idle_cpu = cpu_window(b.pid, args.seconds)
        _, idle_rss, _ = proc_stat(b.pid)

        # The API polled, one event stream open.
        events = {"n": 0}
        stop = threading.Event()
        stream_stop = threading.Event()

        def stream():
            with urllib.request.urlopen(api + "api/events", timeout=60) as r:
                while not stream_stop.is_set():
                    line = r.readline()
                    if not line:
                        return
                    if line.startswith(b"data:"):
                        events["n"] += 1
        threading.Thread(target=stream, daemon=True).start()
        lat = {"printer": [], "printers": [], "metrics": []}
        errors = {"n": 0}

        def poll():
            period = 1.0 / args.rate
            nxt = time.monotonic()
            i = 0
            while not stop.is_set():
                kind = "printers" if i % args.rate == 0 else \
                    "metrics" if i % args.rate == 1 else "printer"
                url = api + ("api/printers" if kind == "printers" else "metrics"
                             if kind == "metrics" else "api/printer/" + random.choice(names))
                try:
                    lat[kind].append(timed_get(url))
                except OSError:
                    errors["n"] += 1
                i += 1
                nxt += period
                time.sleep(max(0.0, nxt - time.monotonic()))
        # Two pollers, each at half the rate: a slow answer does not stall
        # the other.
        args.rate = max(1, args.rate // 2)
        pollers = [threading.Thread(target=poll, daemon=True) for _ in range(2)]
        for t in pollers:
            t.start()
        busy_cpu = cpu_window(b.pid, args.seconds)
        stop.set()
        for t in pollers:
            t.join()
        sent = sum(len(v) for v in lat.values())

        # Notification latency: pause Moonraker printers through their host.
        mr = [n for n in names if n.startswith("mo")]
        random.shuffle(mr)
        chosen = mr[:args.pauses]
        sent_at = {}
        loop = asyncio.new_event_loop()
        for name in chosen:
            sent_at[name] = time.monotonic()
            loop.run_until_complete(rpc(ports[name], "printer.print.pause"))
            time.sleep(0.1)
        deadline = time.monotonic() + 30
        got = {}
        while time.monotonic() < deadline and len(got) < len(chosen):
            with receiver.lock:
                for t, body in receiver.arrivals:
                    p = body.get("printer")
                    if body.get("event") == "state" and body.get("state") == "PAUSED" \
                            and p in sent_at and p not in got:
                        got[p] = (t - sent_at[p]) * 1000
            time.sleep(0.2)
        for name in chosen:
            loop.run_until_complete(rpc(ports[name], "printer.print.resume"))
        stream_stop.set()
        notif = sorted(got.values())
        _, rss, threads = proc_stat(b.pid)
        result = {
            "printers": len(fps), "seconds": args.seconds,
            "requests_per_s": round(sent / args.seconds, 1), "request_errors": errors["n"],
            "api_printer_p50_ms": round(percentile(lat["printer"], 50), 2),
            "api_printer_p99_ms": round(percentile(lat["printer"], 99), 2),
            "api_printers_p50_ms": round(percentile(lat["printers"], 50), 1),
            "api_printers_p99_ms": round(percentile(lat["printers"], 99), 1),
            "metrics_p50_ms": round(percentile(lat["metrics"], 50), 1),
            "metrics_p99_ms": round(percentile(lat["metrics"], 99), 1),
            "sse_events": events["n"],
            "cpu_cores_api_idle": round(idle_cpu, 3), "cpu_cores_api_polled": round(busy_cpu, 3),
            "cpu_cores_added_by_api": round(busy_cpu - idle_cpu, 3),
            "notifications": f"{len(got)}/{len(chosen)}",
            "notification_p50_ms": round(percentile(notif, 50), 1),
            "notification_p99_ms": round(percentile(notif, 99), 1),
            "notification_max_ms": round(notif[-1], 1) if notif else None,
            "rss_mb_api_idle": round(idle_rss / 1024, 1),
            "rss_mb_after_polling": round(rss / 1024, 1), "threads": threads,
        }
        print(json.dumps(result, indent=1))
        return 0
    finally:
        stop_all(procs)


if __name__ == "__main__":
    sys.exit(main())
