#!/usr/bin/python3
# Copyright 2026 The libprusaconnect Authors.
"""CPU per telemetry message: the Python bindings versus the reference SDK.

    bench/python_bindings_bench.py [--sdk PATH] [--emulator PATH | --server URL]
        [--pythonpath DIR] [--printers N] [--rate HZ] [--seconds S] [--calls N]

The same program drives both, in two separate processes run one after the
other against the same emulator: N printers created and connected as the
SDK's README does (Printer(...), set_connection(), Printer.loop() in a
thread per printer), each sending telemetry (the same 17 fields) at RATE Hz
on a fixed schedule from one driver thread for S seconds after a warm-up.
Measured in each process over the window:

* CPU: getrusage(RUSAGE_SELF), i.e. every thread of the process (the
  driver, the SDK's loop threads / the library's network thread), also
  split per thread from /proc/self/task;
* messages: the telemetry the emulator received from those printers
  (its control API, after a grace period); CPU per message = CPU / messages;
* the cost of one telemetry() call alone (printer not sending), CPU time
  over --calls calls; the same for event_cb() and set_state().

--sdk names a checkout of prusa-connect-sdk-printer 0.8.1; without it (or
with a path that does not hold the SDK) the reference run is reported as
skipped. Importing the SDK needs Debian's python3-requests and
python3-mypy-extensions; stand-ins for inotify_simple and gcode_metadata are
written to /tmp/pcsdk-standins-python-bench when they are missing.
--pythonpath is where the `prusaconnect` package is (default: the first
build*/python of the repository that holds it). Without --server the script
starts --emulator (default: the first build*/src/emulator/prusaconnect-emulator).

Prints one JSON line per implementation, then a summary.
"""
import argparse
import glob
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FIELDS = dict(temp_nozzle=214.8, temp_bed=59.9, target_nozzle=215.0, target_bed=60.0,
              axis_x=120.25, axis_y=98.5, axis_z=2.4, fan_extruder=4500, fan_hotend=3200,
              fan_print=5100, speed=100, flow=95, progress=37, time_printing=1834,
              time_remaining=3120, filament=1523.7, material="PLA")

STANDINS = {
    "inotify_simple.py": '''
"""Stand-in for inotify_simple: only what constructing an SDK Printer needs."""
import enum, os
class flags(enum.IntFlag):
    ACCESS = 0x1; MODIFY = 0x2; ATTRIB = 0x4; CLOSE_WRITE = 0x8
    CLOSE_NOWRITE = 0x10; OPEN = 0x20; MOVED_FROM = 0x40; MOVED_TO = 0x80
    CREATE = 0x100; DELETE = 0x200; DELETE_SELF = 0x400; MOVE_SELF = 0x800
    IGNORED = 0x8000; ISDIR = 0x40000000
    @classmethod
    def from_mask(cls, mask):
        return [f for f in cls if f & mask]
class INotify:
    def __init__(self, *a, **k):
        self._r, self._w = os.pipe()
        self._next = 0
    def fileno(self):
        return self._r
    def add_watch(self, path, mask):
        self._next += 1
        return self._next
    def rm_watch(self, wd):
        pass
    def read(self, timeout=None, read_delay=None):
        return []
''',
    "gcode_metadata.py": '''
"""Stand-in for gcode-metadata: only what importing the SDK needs."""
class UnknownGcodeFileType(ValueError):
    pass
def get_metadata(path, *args, **kwargs):
    raise UnknownGcodeFileType(path)
''',
}


# ---------------------------------------------------------------- helpers

def api(server, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(server + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def cpu_s():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def thread_cpu():
    """{thread name: CPU seconds} of this process's threads."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for task in glob.glob("/proc/self/task/*"):
        try:
            with open(task + "/comm") as f:
                name = f.read().strip()
            with open(task + "/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            continue
        out[name] = out.get(name, 0.0) + cpu
    return out


def sdk_ok(path):
    return bool(path) and os.path.isfile(
        os.path.join(path, "prusa", "connect", "printer", "__init__.py"))


def default_path(pattern):
    found = sorted(glob.glob(os.path.join(ROOT, pattern)))
    return found[0] if found else ""


# ---------------------------------------------------------------- worker

def worker(a):
    """One implementation, in its own process."""
    if a.worker == "sdk":
        stub_dir = "/tmp/pcsdk-standins-python-bench"  # reused run after run
        os.makedirs(stub_dir, exist_ok=True)
        for module, text in STANDINS.items():
            try:
                __import__(module.rsplit(".", 1)[0])
            except ImportError:
                with open(os.path.join(stub_dir, module), "w") as f:
                    f.write(text)
        sys.path[:0] = [a.sdk, stub_dir]
        from prusa.connect.printer import Printer, const  # noqa: E402
        import prusa.connect.printer as impl
        version = impl.__version__
    else:
        sys.path.insert(0, a.pythonpath)
        from prusaconnect import Printer, const  # noqa: E402
        import prusaconnect as impl
        version = f"bindings {impl.__version__} / libprusaconnect {impl.__library_version__}"

    n = a.printers

    def schedule(send, seconds):
        """Calls send(i) for every printer i at RATE Hz for `seconds`."""
        period = 1.0 / a.rate
        t_start = time.monotonic() + 0.05
        count = 0
        for k in range(int(seconds * a.rate)):
            for i in range(n):
                # --spread: printers' samples spread over the period; else
                # all printers' samples at each tick (one wake-up per tick).
                due = t_start + k * period + (i * period / n if a.spread else 0.0)
                now = time.monotonic()
                if due > now:
                    time.sleep(due - now)
                send(i)
                count += 1
        return t_start, count

    # The driver alone: the same schedule calling a no-op with the same
    # arguments (its timer wake-ups are the same for both implementations).
    def noop(**kwargs):
        return kwargs

    b0 = cpu_s()
    _, calls = schedule(lambda i: noop(**FIELDS), a.baseline)
    driver_us = (cpu_s() - b0) * 1e6 / max(1, calls)

    server = a.server
    prefix = f"{a.worker}{os.getpid()}-"
    printers = []
    fps = []
    for i in range(a.printers):
        sn, fp = f"SN{prefix}{i}", f"{prefix}{i}"
        token = api(server, "POST", "/api/printers",
                    {"fingerprint": fp, "sn": sn, "printer_type": "1.3.1"})["token"]
        p = Printer(const.PrinterType.I3MK3S, sn, fp)
        p.firmware = "3.14.1"
        p.set_connection(server, token)
        threading.Thread(target=p.loop, daemon=True).start()
        printers.append(p)
        fps.append(fp)

    def received():
        return sum(api(server, "GET", f"/api/printers/{fp}")["telemetry_count"] for fp in fps)

    # Warm-up: every printer delivers a sample.
    for p in printers:
        p.telemetry(**FIELDS)
    deadline = time.monotonic() + 30
    while received() < a.printers and time.monotonic() < deadline:
        time.sleep(0.05)
    for p in printers:  # first connections, imports, caches
        p.telemetry(**FIELDS)
    time.sleep(max(a.warmup, 0.5))

    before = received()
    c0 = cpu_s()
    th0 = thread_cpu()
    t0, sent = schedule(lambda i: printers[i].telemetry(**FIELDS), a.seconds)
    time.sleep(a.grace)  # the last answers arrive
    c1 = cpu_s()
    th1 = thread_cpu()
    window = time.monotonic() - t0
    deadline = time.monotonic() + 30
    delivered = received() - before
    while delivered < sent and time.monotonic() < deadline:
        time.sleep(0.1)
        delivered = received() - before
    cpu = c1 - c0
    per_thread = {}
    for name, v in th1.items():
        d = v - th0.get(name, 0.0)
        if d > 0.0005:
            per_thread[name] = round(d, 3)

    # The calls alone: a printer that is not sending (and holds every event).
    extra = {"event_buffer_size": 2 * a.calls + 5000} if a.worker == "prusaconnect" else {}
    q = Printer(const.PrinterType.I3MK3S, "SN-CALL", "fp-call", **extra)
    q.set_connection(server, "tk-not-sending")

    def per_call(call):
        for _ in range(1000):
            call()
        spent = 0.0
        batch = max(1, a.calls // 10)
        for _ in range(10):
            if a.worker == "sdk":
                q.queue.queue.clear()  # nobody sends: keep the queue small
            cc0 = time.process_time()
            for _ in range(batch):
                call()
            spent += time.process_time() - cc0
        return spent * 1e6 / (batch * 10)

    call_us = per_call(lambda: q.telemetry(**FIELDS))
    event_us = per_call(lambda: q.event_cb(const.Event.INFO, const.Source.USER, job_id=3,
                                           reason="bench"))
    state_us = per_call(lambda: q.set_state(const.State.IDLE, const.Source.USER, job_id=3))

    out = {
        "tool": "python_bindings_bench", "impl": a.worker, "version": version,
        "python": sys.version.split()[0], "printers": n, "rate_hz": a.rate,
        "seconds": a.seconds, "window_s": round(window, 3), "sent": sent,
        "delivered": delivered, "cpu_s": round(cpu, 4),
        "cpu_per_message_ms": round(cpu * 1000 / delivered, 5) if delivered else None,
        "cpu_share_core": round(cpu / window, 4), "cpu_by_thread_s": per_thread,
        "driver_us_per_message": round(driver_us, 2),
        "cpu_per_message_net_ms":
            round(cpu * 1000 / delivered - driver_us / 1000, 5) if delivered else None,
        "telemetry_call_us": round(call_us, 3), "event_cb_call_us": round(event_us, 3),
        "set_state_call_us": round(state_us, 3), "calls": a.calls,
    }
    print(json.dumps(out), flush=True)
    for p in printers:
        p.stop_loop()
    os._exit(0)


# ---------------------------------------------------------------- driver

def run_worker(impl, a, server):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", impl, "--server", server,
           "--printers", str(a.printers), "--rate", str(a.rate), "--seconds", str(a.seconds),
           "--warmup", str(a.warmup), "--grace", str(a.grace), "--calls", str(a.calls),
           "--baseline", str(a.baseline),
           "--pythonpath", a.pythonpath, "--sdk", a.sdk] + (["--spread"] if a.spread else [])
    r = subprocess.run(cmd, capture_output=True, text=True,
                       timeout=120 + a.seconds * 2 + a.printers)
    if r.returncode != 0:
        raise RuntimeError(f"{impl} worker failed ({r.returncode}):\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sdk", default="", help="checkout of prusa-connect-sdk-printer 0.8.1")
    ap.add_argument("--server", default="", help="a running emulator")
    ap.add_argument("--emulator", default="", help="the emulator executable to start")
    ap.add_argument("--pythonpath", default="", help="directory holding prusaconnect/")
    ap.add_argument("--printers", type=int, default=10)
    ap.add_argument("--rate", type=float, default=20.0, help="telemetry per second per printer")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--grace", type=float, default=0.5)
    ap.add_argument("--baseline", type=float, default=3.0,
                    help="seconds of the driver-only schedule (no-op instead of telemetry)")
    ap.add_argument("--calls", type=int, default=100000)
    ap.add_argument("--spread", action="store_true",
                    help="spread the printers' samples over the period (default: "
                         "all printers' samples at each tick)")
    ap.add_argument("--worker", default="", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if not a.pythonpath:
        a.pythonpath = os.path.dirname(os.path.dirname(
            default_path("build*/python/prusaconnect/__init__.py")))
    if a.worker:
        return worker(a)

    emulator = None
    server = a.server.rstrip("/")
    if not server:
        exe = a.emulator or default_path("build*/src/emulator/prusaconnect-emulator")
        if not exe:
            sys.exit("no emulator: give --server URL or --emulator PATH")
        port_file = tempfile.mktemp(prefix="pc-bench-port-", dir="/tmp")
        emulator = subprocess.Popen([exe, "--port", "0", "--port-file", port_file],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(port_file):
            if time.monotonic() > deadline or emulator.poll() is not None:
                sys.exit("the emulator did not start")
            time.sleep(0.02)
        with open(port_file) as f:
            server = f"http://127.0.0.1:{int(f.read())}"
        os.unlink(port_file)
    try:
        ours = run_worker("prusaconnect", a, server)
        print(json.dumps(ours))
        if sdk_ok(a.sdk):
            ref = run_worker("sdk", a, server)
        else:
            ref = {"tool": "python_bindings_bench", "impl": "sdk", "skipped": True,
                   "reason": "no SDK checkout given (--sdk PATH)"}
        print(json.dumps(ref))
    finally:
        if emulator is not None:
            emulator.terminate()
            emulator.wait(10)

    print(f"\npython_bindings_bench: {a.printers} printer(s) x {a.rate:g} Hz for "
          f"{a.seconds:g} s, 17 telemetry fields, Python {ours['python']}")
    rows = [("prusaconnect", ours)] + ([("reference SDK", ref)] if not ref.get("skipped") else [])
    for label, r in rows:
        threads = ", ".join(f"{k} {v:.3f} s" for k, v in sorted(
            r["cpu_by_thread_s"].items(), key=lambda kv: -kv[1]))
        print(f"  {label:14} {r['delivered']}/{r['sent']} delivered, CPU {r['cpu_s']:.3f} s = "
              f"{r['cpu_per_message_ms'] * 1000:.1f} us/message "
              f"({100 * r['cpu_share_core']:.2f} % of a core); "
              f"telemetry() call {r['telemetry_call_us']:.2f} us")
        print(f"  {'':14} net of the driver's own {r['driver_us_per_message']:.1f} us/message: "
              f"{r['cpu_per_message_net_ms'] * 1000:.1f} us/message")
        print(f"  {'':14} by thread: {threads}")
        print(f"  {'':14} event_cb() call {r['event_cb_call_us']:.2f} us, "
              f"set_state() call {r['set_state_call_us']:.2f} us")
    if ref.get("skipped"):
        print(f"  reference SDK  SKIPPED ({ref['reason']})")
    else:
        ratio = ref["cpu_per_message_ms"] / ours["cpu_per_message_ms"]
        net = ref["cpu_per_message_net_ms"] / ours["cpu_per_message_net_ms"]
        call_ratio = ref["telemetry_call_us"] / ours["telemetry_call_us"]
        print(f"  => {ratio:.1f}x less CPU per message ({net:.1f}x net of the driver), "
              f"{call_ratio:.1f}x cheaper telemetry() call (target: >= 10x per message)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
