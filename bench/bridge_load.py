#!/usr/bin/python3
"""One prusaconnect-bridge process with many printers at their normal
telemetry cadence (issue #19's benchmark), all on loopback:

  * N/2 Moonraker printers served by one fake-Moonraker process
    (tests/bridge/fake_moonraker.py --count, one tornado loop), each
    printing;
  * N/2 OctoPrint printers served by one fake-OctoPrint process
    (tests/octoprint/fake_octoprint.py instances in one process), each
    printing;
  * the Connect emulator receiving everything.

Every printer is provisioned (identity + token) and prints, so its cadence
is printing_interval_ms (default 1000 ms). After a warm-up, for --seconds:
  delivered / expected  telemetry the emulator received vs one per interval
                        between each printer's first and last sample
  CPU                   (utime + stime of the bridge) / wall time, in cores
  RSS                   VmRSS of the bridge at the end; per printer =
                        (RSS - RSS of the same bridge with 0 printers) / N
  threads               /proc/PID/task of the bridge
  lateness p50 / p99    per printer, each gap between two telemetry arrivals
                        at the emulator minus the interval (0 when early)

    /usr/bin/python3 bench/bridge_load.py [--build build] [--printers 1000]
        [--seconds 60] [--workers 2]
Results: docs/PERFORMANCE.md ("Bridge").
"""
import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OCTO_FLEET = r'''
import os, sys, time, threading
sys.path.insert(0, sys.argv[1])
from fake_octoprint import FakeOctoPrint, self_start
n, port_file = int(sys.argv[2]), sys.argv[3]
fakes = []
for i in range(n):
    f = FakeOctoPrint(api_key="KEY")
    f.push_interval = 0.5  # OctoPrint's own throttle of `current`
    f.start()
    f.add_file("bench.gcode", b"G28\n" * 1000, estimated=7200, filament=5000.0)
    with f.lock:
        f.job_file = "bench.gcode"
        self_start(f)
    f.advance_per_second = 0.01
    fakes.append(f)
with open(port_file + ".tmp", "w") as out:
    out.write("".join(f"{f.port}\n" for f in fakes))
os.rename(port_file + ".tmp", port_file)
threading.Event().wait()
'''


def get(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.loads(r.read())


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def wait_file(path, lines=1, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                if len(f.read().split()) >= lines:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{path} did not appear")


def proc_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    ticks = int(parts[11]) + int(parts[12])  # utime + stime
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    threads = len(os.listdir(f"/proc/{pid}/task"))
    return ticks / os.sysconf("SC_CLK_TCK"), rss, threads


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def launcher(work, procs):
    """start(cmd, name): a process with its output in WORK/NAME.log, added to
    `procs` (stop_all stops them)."""
    def start(cmd, name, **kw):
        log = open(os.path.join(work, name + ".log"), "w")
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, **kw)
        procs.append(p)
        return p
    return start


def provision(emu, state, name, sn):
    """Registers serial `sn` in the emulator and writes printer `name`'s
    identity and token into the bridge's state folder. Returns its
    fingerprint."""
    fp = hashlib.sha256(sn.encode()).hexdigest()
    token = post(emu + "/api/printers", {"fingerprint": fp, "sn": sn,
                                         "printer_type": "1.3.1"})["token"]
    d = os.path.join(state, name)
    os.makedirs(d, mode=0o700)
    with open(os.path.join(d, "identity"), "w") as f:
        f.write(f"serial={sn}\nsource=bench\n")
    with open(os.path.join(d, "token"), "w") as f:
        f.write(token + "\n")
    return fp


def base_rss(start, bexe, config_text, state, work, seconds=3, name="empty"):
    """RSS (KB) and threads of the bridge with `config_text` (its [bridge],
    and usually no printer), after `seconds`. Its state folder is STATE-NAME."""
    empty = os.path.join(work, name + ".toml")
    with open(empty, "w") as f:
        f.write(config_text.replace(state, state + "-" + name))
    os.makedirs(state + "-" + name, exist_ok=True)
    e = start([bexe, "--config", empty], "bridge-" + name)
    time.sleep(seconds)
    _, rss, threads = proc_stat(e.pid)
    e.send_signal(signal.SIGTERM)
    e.wait(30)
    return rss, threads


def read_telemetry(emu, seq, on_entry):
    """Calls on_entry(fingerprint, entry) for every telemetry request the
    emulator logged after `seq`; returns the sequence to read from next."""
    while True:
        page = get(emu + f"/api/log?since={seq}&limit=10000")
        for entry in page["entries"]:
            if entry["path"] == "/p/telemetry":
                h = {k.lower(): v for k, v in entry["headers"].items()}
                on_entry(h.get("fingerprint"), entry)
        if not page["entries"]:
            return seq
        seq = page["next_since"]
        if seq >= page["last_seq"]:
            return seq


def fleet_args(ap):
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--printers", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--interval-ms", type=int, default=1000)


def setup_fleet(args, work, start, bridge_lines=(), tail_lines=()):
    """The emulator, the fake hosts and the bridge's config (every printer
    provisioned). Returns (emulator URL, {fingerprint: name}, config path,
    base RSS and threads of the bridge with no printer, {name: host port})."""
    start([os.path.join(args.build, "src/emulator/prusaconnect-emulator"), "--port", "0",
           "--port-file", os.path.join(work, "eport")], "emulator")
    wait_file(os.path.join(work, "eport"))
    emu = f"http://127.0.0.1:{open(os.path.join(work, 'eport')).read().strip()}"
    n_mr = args.printers // 2
    n_op = args.printers - n_mr
    if n_mr:
        start(["/usr/bin/python3", os.path.join(ROOT, "tests/bridge/fake_moonraker.py"),
               "--count", str(n_mr), "--print", "bench.gcode",
               "--port-file", os.path.join(work, "mports")], "moonraker")
    if n_op:
        start(["/usr/bin/python3", "-c", OCTO_FLEET, os.path.join(ROOT, "tests/octoprint"),
               str(n_op), os.path.join(work, "oports")], "octoprint")
    mports = oports = []
    if n_mr:
        wait_file(os.path.join(work, "mports"), n_mr)
        mports = open(os.path.join(work, "mports")).read().split()
    if n_op:
        wait_file(os.path.join(work, "oports"), n_op)
        oports = open(os.path.join(work, "oports")).read().split()
    state = os.path.join(work, "state")
    os.makedirs(state, mode=0o700)
    lines = ["[bridge]", f'connect_server = "{emu}"', f'state_dir = "{state}"',
             'log_level = "warning"', f"workers = {args.workers}"] + list(bridge_lines) + [""]
    head = len(lines)
    fps = {}
    host_ports = {}
    for kind, ports in (("moonraker", mports), ("octoprint", oports)):
        for i, port in enumerate(ports):
            name = f"{kind[:2]}{i}"
            fp = provision(emu, state, name, f"BENCH-{name}-{os.getpid()}")
            fps[fp] = name
            host_ports[name] = int(port)
            lines += ["[[printer]]", f'name = "{name}"', f'host = "{kind}"',
                      f'url = "http://127.0.0.1:{port}"',
                      f"printing_interval_ms = {args.interval_ms}"]
            if kind == "octoprint":
                lines.append('api_key = "KEY"')
            lines.append("")
    lines += list(tail_lines)
    config = os.path.join(work, "bridge.toml")
    with open(config, "w") as f:
        f.write("\n".join(lines))
    # The bridge with no printer: the base RSS.
    bexe = os.path.join(args.build, "examples/bridge/prusaconnect-bridge")
    rss, threads = base_rss(start, bexe, "\n".join(lines[:head]), state, work)
    return emu, fps, config, rss, threads, host_ports


def stop_all(procs):
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    fleet_args(ap)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bridge-bench-")
    procs = []
    start = launcher(work, procs)
    try:
        emu, fps, config, base_rss, base_threads, _ = setup_fleet(
            args, work, start, ['api_listen = ""'])
        n_mr = args.printers // 2
        n_op = args.printers - n_mr
        bexe = os.path.join(args.build, "examples/bridge/prusaconnect-bridge")
        b = start([bexe, "--config", config], "bridge")
        time.sleep(args.warmup)
        seq = get(emu + "/api/log?limit=1&since=0")["last_seq"]
        arrivals = {}
        cpu0, _, _ = proc_stat(b.pid)
        t0 = time.monotonic()
        while time.monotonic() - t0 < args.seconds:
            time.sleep(2)
            seq = read_telemetry(emu, seq, lambda fp, entry: arrivals.setdefault(
                fp, []).append(entry["time"]))
        wall = time.monotonic() - t0
        cpu1, rss, threads = proc_stat(b.pid)
        # Per printer, between its first and last sample in the window (no
        # edge effects): one sample per interval expected.
        delivered = expected = 0
        for k in fps:
            times = sorted(arrivals.get(k, []))
            if not times:
                expected += wall * 1000 / args.interval_ms
                continue
            delivered += len(times)
            expected += round((times[-1] - times[0]) * 1000 / args.interval_ms) + 1
        late = []
        for k, times in arrivals.items():
            times.sort()
            late += [max(0.0, (b2 - a) * 1000 - args.interval_ms)
                     for a, b2 in zip(times, times[1:])]
        silent = [fps[k] for k in fps if len(arrivals.get(k, [])) == 0]
        result = {
            "printers": len(fps), "moonraker": n_mr, "octoprint": n_op,
            "workers": args.workers, "seconds": round(wall, 1),
            "delivered": delivered, "expected": round(expected),
            "delivered_pct": round(100 * delivered / expected, 2) if expected else 0,
            "gaps_over_2x_interval": sum(1 for x in late if x >= args.interval_ms),
            "cpu_cores": round((cpu1 - cpu0) / wall, 3),
            "rss_mb": round(rss / 1024, 1), "base_rss_mb": round(base_rss / 1024, 1),
            "rss_per_printer_kb": round((rss - base_rss) / max(1, len(fps)), 1),
            "threads": threads, "threads_without_printers": base_threads,
            "lateness_p50_ms": round(percentile(late, 50), 1),
            "lateness_p99_ms": round(percentile(late, 99), 1),
            "silent_printers": len(silent),
        }
        print(json.dumps(result, indent=1))
        return 0
    finally:
        stop_all(procs)


if __name__ == "__main__":
    sys.exit(main())
