#!/usr/bin/python3
"""Many Bambu Lab printers in one prusaconnect-bridge (issue #21's
benchmark), all on loopback with real parts:

  * one real mosquitto broker with TLS and a password file, standing in for
    every printer's own broker (tests/bridge/local_servers.py);
  * one real ProFTPD with implicit TLS for the SD cards (each printer lists
    it once when it comes online);
  * one fake process publishing for all printers (tests/bridge/fake_bambu.py
    --count N --stamp): every --interval, each printer publishes a
    nozzle_temper delta whose value (100..199, one up each time) it stamps
    with the wall-clock time on its stdout;
  * the Connect emulator receiving the bridge's telemetry.

After a warm-up, for --seconds:
  CPU                    (utime + stime of the bridge) / wall time, in cores
  RSS                    VmRSS of the bridge at the end; per printer =
                         (RSS - RSS of the same bridge with 0 printers) / N;
                         per added printer = (RSS - RSS with 1 printer) / (N-1)
  threads                /proc/PID/task of the bridge
  report-to-telemetry    per stamped report, the first telemetry the
                         emulator received with that printer's value: its
                         arrival minus the publish; p50/p99
  reports matched        how many stamped reports reached Connect

    /usr/bin/python3 bench/bridge_bambu_load.py [--build build] [--printers 200]
        [--seconds 60] [--warmup 20] [--interval 1.0]
Results: docs/PERFORMANCE.md ("Bridge: Bambu Lab printers").
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "bridge"))
from bridge_load import (base_rss, get, launcher, percentile, proc_stat,  # noqa: E402
                         provision, read_telemetry, stop_all, wait_file)
from local_servers import FtpsServer, Mosquitto, make_certs, raise_nofile  # noqa: E402

CODE = "12345678"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--printers", type=int, default=200)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    raise_nofile()
    work = tempfile.mkdtemp(prefix="bridge-bambu-bench-")
    procs = []
    start = launcher(work, procs)
    certs = make_certs(os.path.join(work, "certs"), key="ec")
    broker = Mosquitto(work, certs, users={"bblp": CODE, "fleet": "fleet-pw"},
                       log_type="error warning notice").start()
    sd = os.path.join(work, "sdcard")
    os.makedirs(sd)
    ftps = FtpsServer(work, certs, root=sd, password=CODE).start()
    try:
        start([os.path.join(args.build, "src/emulator/prusaconnect-emulator"), "--port", "0",
               "--port-file", os.path.join(work, "eport")], "emulator")
        wait_file(os.path.join(work, "eport"))
        emu = f"http://127.0.0.1:{open(os.path.join(work, 'eport')).read().strip()}"
        # The fake fleet, stamping its reports on stdout.
        fake = start(["/usr/bin/python3", os.path.join(ROOT, "tests/bridge/fake_bambu.py"),
                      "--host", "127.0.0.1", "--port", str(broker.port), "--ca", certs.ca,
                      "--user", "fleet", "--password", "fleet-pw",
                      "--count", str(args.printers), "--serial-prefix", "01P",
                      "--sd-root", sd, "--interval", str(args.interval), "--stamp"],
                     "fake")
        stamps = {}  # (serial, temp) -> [publish times, s]
        lock = threading.Lock()
        ready = threading.Event()
        stamp_log = os.path.join(work, "fake.log")

        def follow():
            with open(stamp_log) as f:
                while True:
                    line = f.readline()
                    if not line:
                        if fake.poll() is not None:
                            return
                        time.sleep(0.05)
                        continue
                    parts = line.split()
                    if parts[:1] == ["READY"]:
                        ready.set()
                    elif len(parts) == 3:
                        with lock:
                            stamps.setdefault((parts[0], float(parts[1])), []).append(
                                int(parts[2]) / 1000)
        threading.Thread(target=follow, daemon=True).start()
        assert ready.wait(120), "the fake fleet did not start"
        state = os.path.join(work, "state")
        os.makedirs(state, mode=0o700)
        head = ["[bridge]", f'connect_server = "{emu}"', f'state_dir = "{state}"',
                'log_level = "warning"', f"workers = {args.workers}", 'api_listen = ""', ""]
        lines = list(head)
        serial_of = {}
        for i in range(1, args.printers + 1):
            serial = f"01P00A{i:09d}"
            name = f"b{i}"
            fp = provision(emu, state, name, f"BENCH-{serial}-{os.getpid()}")
            serial_of[fp] = serial
            lines += ["[[printer]]", f'name = "{name}"', 'host = "bambu"',
                      'address = "127.0.0.1"', f'serial = "{serial}"',
                      f'access_code = "{CODE}"', f"mqtt_port = {broker.port}",
                      f"ftps_port = {ftps.port}", ""]
        config = os.path.join(work, "bridge.toml")
        with open(config, "w") as f:
            f.write("\n".join(lines))
        bexe = os.path.join(args.build, "examples/bridge/prusaconnect-bridge")
        rss0, threads0 = base_rss(start, bexe, "\n".join(head), state, work)
        # One Bambu printer: the bridge with its one-time Bambu parts (the
        # MQTT thread, the I/O pool, TLS contexts, curl) — what each printer
        # after it adds is the marginal cost.
        shutil.copytree(os.path.join(state, "b1"), os.path.join(state + "-one", "b1"))
        rss1, _ = base_rss(start, bexe, "\n".join(lines[:len(head) + 9]), state, work,
                           seconds=35, name="one")  # after a malloc_trim
        # BENCH_BRIDGE_WRAP="heaptrack -o /tmp/ht": the bridge under a profiler.
        wrap = os.environ.get("BENCH_BRIDGE_WRAP", "").split()
        b = start(wrap + [bexe, "--config", config], "bridge")
        time.sleep(args.warmup)
        seq = get(emu + "/api/log?limit=1&since=0")["last_seq"]
        cpu0, _, _ = proc_stat(b.pid)
        t0 = time.monotonic()
        latencies = []
        seen = set()
        counts = {"telemetry": 0}

        def on_telemetry(fp, entry):
            counts["telemetry"] += 1
            serial = serial_of.get(fp)
            try:
                temp = json.loads(entry["body"]).get("temp_nozzle")
            except (ValueError, AttributeError):
                return
            with lock:
                sent = stamps.get((serial, temp), [])
                before = [t for t in sent if t <= entry["time"] + 0.001]
            # The newest publish of that value before the arrival (values
            # repeat every 100 publishes), counted at its first telemetry
            # only: a later one repeats a value nothing changed since.
            if before and entry["time"] - before[-1] < 50 * args.interval and \
                    (serial, before[-1]) not in seen:
                seen.add((serial, before[-1]))
                latencies.append((entry["time"] - before[-1]) * 1000)
        while time.monotonic() - t0 < args.seconds:
            time.sleep(2)
            seq = read_telemetry(emu, seq, on_telemetry)
        wall = time.monotonic() - t0
        cpu1, rss, threads = proc_stat(b.pid)
        published = int(args.printers * wall / args.interval)
        result = {
            "printers": args.printers, "seconds": round(wall, 1),
            "interval_s": args.interval,
            "reports_published_approx": published,
            "telemetry_received": counts["telemetry"],
            "reports_matched": len(latencies),
            "cpu_cores": round((cpu1 - cpu0) / wall, 3),
            "rss_mb": round(rss / 1024, 1), "base_rss_mb": round(rss0 / 1024, 1),
            "rss_per_printer_kb": round((rss - rss0) / max(1, args.printers), 1),
            "rss_one_printer_mb": round(rss1 / 1024, 1),
            "rss_per_added_printer_kb": round((rss - rss1) / max(1, args.printers - 1), 1),
            "threads": threads, "threads_without_printers": threads0,
            "report_to_telemetry_p50_ms": round(percentile(latencies, 50), 1),
            "report_to_telemetry_p99_ms": round(percentile(latencies, 99), 1),
            "report_to_telemetry_max_ms": round(max(latencies), 1) if latencies else None,
        }
        print(json.dumps(result, indent=1))
        return 0
    finally:
        stop_all(procs)
        ftps.stop()
        broker.stop()


if __name__ == "__main__":
    sys.exit(main())
