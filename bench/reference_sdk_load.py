#!/usr/bin/python3
# Copyright 2026 The libprusaconnect Authors.
"""Load tool for the reference Python SDK (prusa-connect-sdk-printer 0.8.1).

The counterpart of telemetry_load for the side-by-side figures of
docs/PERFORMANCE.md: the same emulator, the same telemetry fields, the same
tick schedule and the same measurements, through the SDK's public API used
as its README shows it (Printer(...), set_connection(), telemetry(), and
Printer.loop() in a thread per printer).

    reference_sdk_load.py --sdk /tmp/pcsdk --server http://127.0.0.1:PORT \
        [--mode paced|flood|maxprinters] [--printers N] [--rate HZ] \
        [--seconds S] [--warmup S] [--grace S] [--label L]

Without --sdk (or with a path that does not hold the SDK) it prints a JSON
line with "skipped": true and exits 0, so that CI never needs the SDK.

Round-trips are observed with a `response` hook on the printer's public
`conn` attribute (a requests.Session); in flood mode the hook queues the
next sample (Printer.telemetry() only puts it on the printer's queue, so
that is safe from the loop thread). The SDK never coalesces telemetry: the
k-th telemetry answer of a printer belongs to its k-th sample.

The SDK's import needs `inotify_simple` and `gcode-metadata` (and
`mypy_extensions`, Debian's python3-mypy-extensions). When they are not
installed, tiny stand-ins are written to a temporary directory under /tmp:
inotify_simple is a faithful ctypes wrapper of the real inotify_init1()
(so the per-user inotify instance limit applies as with the real package),
gcode_metadata only what the import needs.

Measured like telemetry_load: CPU from getrusage(RUSAGE_SELF) over the
window, RSS from /proc/self/status, lateness = answer time - scheduled tick.
"""

import argparse
import collections
import http.client
import json
import math
import os
import resource
import sys
import tempfile
import threading
import time
import urllib.parse

INOTIFY_STANDIN = '''
"""Stand-in for inotify_simple: real inotify through ctypes (minimal API)."""
import ctypes, ctypes.util, enum, os, struct, collections
_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
Event = collections.namedtuple("Event", ["wd", "mask", "cookie", "name"])
class flags(enum.IntEnum):
    ACCESS = 0x1; MODIFY = 0x2; ATTRIB = 0x4; CLOSE_WRITE = 0x8
    CLOSE_NOWRITE = 0x10; OPEN = 0x20; MOVED_FROM = 0x40; MOVED_TO = 0x80
    CREATE = 0x100; DELETE = 0x200; DELETE_SELF = 0x400; MOVE_SELF = 0x800
    UNMOUNT = 0x2000; Q_OVERFLOW = 0x4000; IGNORED = 0x8000
    ONLYDIR = 0x1000000; DONT_FOLLOW = 0x2000000; EXCL_UNLINK = 0x4000000
    MASK_ADD = 0x20000000; ISDIR = 0x40000000; ONESHOT = 0x80000000
    @classmethod
    def from_mask(cls, mask):
        return [f for f in cls if f & mask]
class INotify:
    def __init__(self, inheritable=False, nonblocking=False):
        fl = (0 if inheritable else os.O_CLOEXEC) | (os.O_NONBLOCK if nonblocking else 0)
        self.fd = _libc.inotify_init1(fl)
        if self.fd < 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
    def fileno(self):
        return self.fd
    def add_watch(self, path, mask):
        wd = _libc.inotify_add_watch(self.fd, os.fsencode(path), mask)
        if wd < 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
        return wd
    def rm_watch(self, wd):
        _libc.inotify_rm_watch(self.fd, wd)
    def read(self, timeout=None, read_delay=None):
        import select
        r, _, _ = select.select([self.fd], [], [], None if timeout is None else timeout / 1000)
        if not r:
            return []
        data = os.read(self.fd, 65536)
        out, pos = [], 0
        while pos < len(data):
            wd, mask, cookie, n = struct.unpack_from("iIII", data, pos)
            pos += 16
            name = data[pos:pos + n].rstrip(b"\\0").decode()
            pos += n
            out.append(Event(wd, mask, cookie, name))
        return out
    def close(self):
        os.close(self.fd)
'''

GCODE_METADATA_STANDIN = '''
"""Stand-in for gcode-metadata: only what importing the SDK needs."""
class UnknownGcodeFileType(ValueError):
    pass
def get_metadata(path, *args, **kwargs):
    raise UnknownGcodeFileType(path)
'''

FIELDS = dict(temp_nozzle=214.8, temp_bed=59.9, target_nozzle=215.0, target_bed=60.0,
              axis_x=120.25, axis_y=98.5, axis_z=2.4, fan_extruder=4500, fan_hotend=3200,
              fan_print=5100, speed=100, flow=95, progress=37, time_printing=1834,
              time_remaining=3120, filament=1523.7, material="PLA")


def status_kb(name):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return -1


def cpu_s():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime, ru.ru_stime


def machine_cpu():
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return sum(v) - v[3] - v[4], sum(v)


def percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


def import_sdk(sdk_path):
    """Imports the SDK from a checkout; returns (Printer, const) or a reason."""
    if not sdk_path or not os.path.isfile(
            os.path.join(sdk_path, "prusa", "connect", "printer", "__init__.py")):
        return None, "no SDK checkout given (--sdk PATH)"
    stand_ins = []
    stub_dir = None
    for module, text in (("inotify_simple", INOTIFY_STANDIN),
                         ("gcode_metadata", GCODE_METADATA_STANDIN)):
        try:
            __import__(module)
        except ImportError:
            if stub_dir is None:
                stub_dir = tempfile.mkdtemp(prefix="pcsdk-standins-", dir="/tmp")
                sys.path.insert(0, stub_dir)
            with open(os.path.join(stub_dir, module + ".py"), "w") as f:
                f.write(text)
            stand_ins.append(module)
    sys.path.insert(0, sdk_path)
    try:
        from prusa.connect.printer import Printer, const  # noqa: E402
        import prusa.connect.printer as sdk
    except ImportError as e:
        return None, f"cannot import the SDK: {e}"
    return (Printer, const, getattr(sdk, "__version__", "?"), stand_ins), None


class Control:
    """Keep-alive client of the emulator's control API."""

    def __init__(self, server):
        u = urllib.parse.urlsplit(server)
        self.conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=10)

    def post(self, path, body):
        self.conn.request("POST", path, body=json.dumps(body),
                          headers={"Content-Type": "application/json"})
        r = self.conn.getresponse()
        data = r.read()
        return r.status, data


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sdk", default="")
    ap.add_argument("--server", required=True)
    ap.add_argument("--mode", choices=["paced", "flood", "maxprinters"], default="paced")
    ap.add_argument("--printers", type=int, default=1)
    ap.add_argument("--rate", type=float, default=1.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--grace", type=float, default=2.0)
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    server = a.server.rstrip("/")

    sdk, reason = import_sdk(a.sdk)
    if sdk is None:
        print(json.dumps({"tool": "reference_sdk_load", "label": a.label, "mode": a.mode,
                          "skipped": True, "reason": reason}))
        print(f"\nreference_sdk_load {a.label}: SKIPPED ({reason})")
        return 0
    Printer, const, version, stand_ins = sdk

    # Bounded run: a watchdog ends the process.
    budget = 120 + a.warmup + a.seconds + a.grace + a.printers * 0.05

    def watchdog():
        time.sleep(budget)
        sys.stderr.write(f"reference_sdk_load: watchdog: still running after {budget:.0f} s\n")
        sys.stdout.flush()
        os._exit(3)
    threading.Thread(target=watchdog, daemon=True).start()

    prefix = f"ref{os.getpid()}-"
    n = a.printers if a.mode != "maxprinters" else max(a.printers, 200)
    control = Control(server)
    tokens = []
    for i in range(n):
        token = f"tk{prefix}{i}"
        st, body = control.post("/api/printers", {"fingerprint": f"{prefix}{i}",
                                                  "sn": f"SN{prefix}{i}",
                                                  "printer_type": "1.3.1", "token": token})
        if st != 200:
            sys.stderr.write(f"reference_sdk_load: POST /api/printers -> {st}: {body!r}\n")
            return 1
        tokens.append(token)
    control.conn.close()

    if a.mode == "maxprinters":
        # How many printers can one OS user start? (each Printer opens an
        # inotify instance; fs.inotify.max_user_instances is per user)
        made = []
        error = ""
        for i in range(n):
            try:
                made.append(Printer(const.PrinterType.I3MK3S, f"SN{prefix}{i}", f"{prefix}{i}"))
            except Exception as e:  # noqa: BLE001 - report whatever stops it
                error = f"{type(e).__name__}: {e}"
                break
        limit = open("/proc/sys/fs/inotify/max_user_instances").read().strip()
        print(json.dumps({"tool": "reference_sdk_load", "label": a.label, "mode": a.mode,
                          "sdk_version": version, "stand_ins": stand_ins, "tried": n,
                          "created": len(made), "error": error,
                          "max_user_instances": int(limit)}))
        print(f"\nreference_sdk_load {a.label} maxprinters: created {len(made)} of {n} "
              f"printers; stopped by: {error or 'nothing'} "
              f"(fs.inotify.max_user_instances = {limit})")
        sys.stdout.flush()
        os._exit(0)

    period = 1.0 / a.rate
    lock = threading.Lock()
    state = {"t0": None, "wb": 0.0, "we": 0.0, "flood": False, "acked": 0,
             "delivered": 0, "failed": 0}
    lateness = []
    ticks = [collections.deque() for _ in range(n)]  # paced: tick times queued, FIFO
    sent_at = [collections.deque() for _ in range(n)]  # flood: when queued
    printers = []

    def make_hook(i):
        def hook(response, *args, **kwargs):
            if not response.request.path_url.startswith("/p/telemetry"):
                return
            done = time.monotonic()
            ok = 200 <= response.status_code < 300
            with lock:
                if not ok:
                    state["failed"] += 1
                else:
                    state["acked"] += 1
                if a.mode == "flood":
                    q = sent_at[i]
                    queued = q.popleft() if q else done
                    if ok and state["wb"] <= done < state["we"]:
                        state["delivered"] += 1
                        lateness.append(done - queued)
                    again = state["flood"]
                else:
                    q = ticks[i]
                    tick = q.popleft() if q else None
                    if ok and tick is not None and state["wb"] <= tick < state["we"]:
                        state["delivered"] += 1
                        lateness.append(done - tick)
                    again = False
            if again:
                with lock:
                    sent_at[i].append(time.monotonic())
                printers[i].telemetry(**FIELDS)
        return hook

    rss_base = status_kb("VmRSS")
    rss_one = None
    for i in range(n):
        p = Printer(const.PrinterType.I3MK3S, f"SN{prefix}{i}", f"{prefix}{i}")
        p.firmware = "3.14.1"
        p.set_connection(server, tokens[i])
        p.conn.hooks["response"].append(make_hook(i))
        printers.append(p)
        threading.Thread(target=p.loop, daemon=True).start()
        if i == 0:
            # The first printer's warm-up sample (not counted), then RSS.
            ticks[0].append(None)
            sent_at[0].append(time.monotonic())
            p.telemetry(**FIELDS)
            deadline = time.monotonic() + 10
            while state["acked"] == 0 and time.monotonic() < deadline:
                time.sleep(0.001)
            time.sleep(0.05)
            rss_one = status_kb("VmRSS")

    t0 = time.monotonic() + 0.02
    wb = t0 + a.warmup
    we = wb + a.seconds
    with lock:
        state.update(t0=t0, wb=wb, we=we)
    expected = 0
    driver_lag = []
    if a.mode == "paced":
        j = 0
        started = False
        c0 = None
        while True:
            i, k = j % n, j // n
            due = t0 + i * period / n + k * period
            if due >= we:
                break
            now = time.monotonic()
            if due > now:
                time.sleep(max(due - now, 0.001))
                continue
            if not started and due >= wb:
                started = True
                c0 = cpu_s()
                m0 = machine_cpu()
                acked0 = state["acked"]
            with lock:
                ticks[i].append(due)
            printers[i].telemetry(**FIELDS)
            if due >= wb:
                expected += 1
                driver_lag.append(time.monotonic() - due)
            j += 1
        time.sleep(max(0.0, we - time.monotonic()))
        c1 = cpu_s()
        m1 = machine_cpu()
        acked1 = state["acked"]
        rss_end, hwm_end = status_kb("VmRSS"), status_kb("VmHWM")
        time.sleep(a.grace)
    else:
        with lock:
            state["flood"] = True
        for i in range(n):
            with lock:
                sent_at[i].append(time.monotonic())
            printers[i].telemetry(**FIELDS)
        time.sleep(max(0.0, wb - time.monotonic()))
        c0 = cpu_s()
        m0 = machine_cpu()
        acked0 = state["acked"]
        time.sleep(max(0.0, we - time.monotonic()))
        c1 = cpu_s()
        m1 = machine_cpu()
        acked1 = state["acked"]
        rss_end, hwm_end = status_kb("VmRSS"), status_kb("VmHWM")
        with lock:
            state["flood"] = False
        time.sleep(0.2)

    with lock:
        delivered = state["delivered"]
        failed = state["failed"]
        lat = sorted(lateness)
    if a.mode == "flood":
        expected = delivered
    user, sys_ = c1[0] - c0[0], c1[1] - c0[1]
    cpu = user + sys_
    window = we - wb
    roundtrips = acked1 - acked0
    lag = sorted(driver_lag)
    out = {
        "tool": "reference_sdk_load", "label": a.label, "mode": a.mode, "skipped": False,
        "sdk_version": version, "stand_ins": stand_ins, "python": sys.version.split()[0],
        "printers": n, "rate_hz": a.rate, "seconds": a.seconds, "warmup_s": a.warmup,
        "expected": expected, "delivered": delivered,
        "delivered_pct": round(100.0 * delivered / expected, 3) if expected else 0.0,
        "roundtrips_in_window": roundtrips, "failed_answers": failed,
        "cpu_user_s": round(user, 3), "cpu_sys_s": round(sys_, 3), "cpu_s": round(cpu, 3),
        "cpu_share_core": round(cpu / window, 4),
        "cpu_per_roundtrip_ms": round(cpu * 1000 / roundtrips, 5) if roundtrips else 0,
        "rss_base_kb": rss_base, "rss_one_printer_kb": rss_one, "vmrss_kb": rss_end,
        "vmhwm_kb": hwm_end,
        "rss_per_printer_bytes": round(1024 * (rss_end - rss_base) / n),
        "marginal_rss_per_printer_bytes":
            round(1024 * (rss_end - rss_one) / (n - 1)) if n > 1 else 0,
        "lateness_ms": {"samples": len(lat), "p50": round(percentile(lat, 50) * 1e3, 3),
                        "p90": round(percentile(lat, 90) * 1e3, 3),
                        "p99": round(percentile(lat, 99) * 1e3, 3),
                        "max": round((lat[-1] if lat else 0) * 1e3, 3)},
        "driver_lag_ms": {"p99": round(percentile(lag, 99) * 1e3, 3),
                          "max": round((lag[-1] if lag else 0) * 1e3, 3)},
        "threads": threading.active_count(),
        "machine_busy_cores": round(os.cpu_count() * (m1[0] - m0[0]) / max(1, m1[1] - m0[1]), 3),
    }
    print(json.dumps(out))
    kind = "lateness (done - tick)" if a.mode == "paced" else "round-trip (done - queued)"
    print(f"\nreference_sdk_load {a.label} {a.mode}: {n} printer(s) (SDK {version}, "
          f"Python {out['python']}), window {window:.1f} s after {a.warmup:.1f} s warm-up")
    print(f"  {'delivered / expected':34} {delivered} / {expected} ({out['delivered_pct']:.2f} %)")
    print(f"  {'failed answers':34} {failed}")
    print(f"  {'client CPU':34} {cpu:.3f} s (user {user:.3f}, sys {sys_:.3f}) = "
          f"{100 * cpu / window:.2f} % of one core")
    print(f"  {'CPU per round-trip':34} {out['cpu_per_roundtrip_ms']:.4f} ms over "
          f"{roundtrips} round-trips")
    print(f"  {'RSS at end of window':34} {rss_end / 1024:.1f} MB (VmHWM {hwm_end / 1024:.1f} MB)")
    print(f"  {'RSS baseline':34} {rss_base / 1024:.1f} MB before printers, "
          f"{rss_one / 1024:.1f} MB with the first")
    print(f"  {'RSS per printer':34} {out['rss_per_printer_bytes']} B (all), "
          f"{out['marginal_rss_per_printer_bytes']} B (each printer after the first)")
    lm = out["lateness_ms"]
    print(f"  {kind:34} p50 {lm['p50']:.2f}  p90 {lm['p90']:.2f}  p99 {lm['p99']:.2f}  "
          f"max {lm['max']:.2f} ms ({lm['samples']} samples)")
    if stand_ins:
        print(f"  {'stand-ins used':34} {', '.join(stand_ins)}")
    sys.stdout.flush()
    # The SDK's loop threads never end by themselves fast (stop_loop() lets
    # them finish their 100 ms queue wait); exit without waiting for them.
    for p in printers:
        p.stop_loop()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
