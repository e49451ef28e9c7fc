#!/usr/bin/python3
"""What the OctoPrint plugin adds to the OctoPrint process, on libprusaconnect
and on Prusa's SDK (issue #18; docs/PERFORMANCE.md).

Runs one real OctoPrint (installed as ../shared/recipes/octoprint.md says)
per configuration, side by side in the same minutes, each with its virtual
printer and a fresh base directory on 127.0.0.1:

  none       OctoPrint alone (the plugin disabled)
  ours       the plugin on the `prusaconnect` module
  reference  the same plugin on Prusa's SDK (PRUSACONNECT_PLUGIN_SDK=reference)

Each plugin is registered with a local emulator, so it sends telemetry the
whole time. After a warm-up, the CPU time (utime + stime of the OctoPrint
process and its threads) and RSS are sampled over an idle period, then over
a virtual print. "Added" = the configuration minus `none`.

    bench/octoprint_plugin_bench.py --sdk /path/with/prusa/connect/printer \\
        [--octo-site /work/octo/site] [--octo-user octo] [--idle 600] [--print 600]

Needs root (OctoPrint runs as the unprivileged --octo-user), the build tree
(build/python, build/src/emulator) and, for `reference`, the SDK and its
dependencies on --sdk (a folder for PYTHONPATH).
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "octoprint"))
from harness import Emulator  # noqa: E402  pylint: disable=wrong-import-position

TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class OctoPrint:
    """One OctoPrint process with its own base directory and port."""

    def __init__(self, name, args, emulator, pythonpath, env_extra, plugin):
        self.name = name
        self.port = free_port()
        self.base = tempfile.mkdtemp(prefix=f"pc-bench-{name}-")
        sn = f"BENCH-{name}-{os.getpid()}"
        fp, token = emulator.add_printer(sn)
        self.fp = fp
        plugins = {"_disabled": ["tracking", "announcements", "softwareupdate", "pluginmanager",
                                 "errortracking", "discovery", "backup", "achievements"]
                   + ([] if plugin else ["prusaconnect"]),
                   "virtual_printer": {"enabled": True},
                   "prusaconnect": {"server": emulator.url, "serial_number": sn,
                                    "serial_source": "m115-uuid", "token": token,
                                    "camera": False}}
        config = {"server": {"host": "127.0.0.1", "port": self.port, "firstRun": False,
                             "onlineCheck": {"enabled": False},
                             "pluginBlacklist": {"enabled": False}},
                  "api": {"key": "BENCHKEY" + name.upper()},
                  "accessControl": {"autologinLocal": False},
                  "serial": {"port": "VIRTUAL", "baudrate": 0, "autoconnect": True},
                  "plugins": plugins}
        with open(os.path.join(self.base, "config.yaml"), "w") as f:
            json.dump(config, f)  # JSON is YAML

        subprocess.run(["chown", "-R", args.octo_user, self.base], check=True)
        env = dict(os.environ, HOME=self.base, PYTHONPATH=pythonpath, **env_extra)
        self.log = open(os.path.join(self.base, "octoprint.out"), "w")
        self.proc = subprocess.Popen(
            ["runuser", "-u", args.octo_user, "--", "env", *[f"{k}={v}" for k, v in env.items()
                                                             if k in ("HOME", "PYTHONPATH")
                                                             or k.startswith("PRUSACONNECT")],
             sys.executable, "-m", "octoprint", "--basedir", self.base, "serve", "--host",
             "127.0.0.1", "--port", str(self.port)], stdout=self.log, stderr=subprocess.STDOUT)
        self.key = config["api"]["key"]

    def pid(self):
        """The Python process (runuser's child)."""
        out = subprocess.run(["pgrep", "-f", "--", f"--basedir {self.base}"], capture_output=True,
                             text=True).stdout.split()
        pids = [int(p) for p in out if int(p) != self.proc.pid]
        return max(pids) if pids else None

    def api(self, method, path, body=None, headers=None):
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        h = {"X-Api-Key": self.key}
        if isinstance(body, (dict, list)):
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data,
                                     method=method, headers=h)
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.read()

    def up(self, timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                state = json.loads(self.api("GET", "/api/printer"))["state"]["text"]
                if state == "Operational":
                    return True
            except Exception:  # pylint: disable=broad-except
                pass
            time.sleep(1)
        return False

    def start_print(self, gcode):
        boundary = "pcbench"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"bench.gcode\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                ).encode() + gcode + (f"\r\n--{boundary}\r\nContent-Disposition: form-data; "
                                      f"name=\"print\"\r\n\r\ntrue\r\n--{boundary}--\r\n").encode()
        self.api("POST", "/api/files/local", body,
                 {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def stop(self):
        pid = self.pid()
        if pid:
            os.kill(pid, signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def measure(servers, seconds):
    """CPU seconds per minute and RSS (mean, max kB) of each server."""
    pids = {s.name: s.pid() for s in servers}
    start = {n: cpu_seconds(p) for n, p in pids.items()}
    rss = {n: [] for n in pids}
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        for n, p in pids.items():
            rss[n].append(rss_kb(p))
        time.sleep(5)
    minutes = (time.monotonic() - t0) / 60
    return {n: {"cpu_s_per_min": round((cpu_seconds(p) - start[n]) / minutes, 3),
                "rss_mean_kb": int(sum(rss[n]) / len(rss[n])), "rss_max_kb": max(rss[n])}
            for n, p in pids.items()}


def print_gcode(seconds):
    """G-code the virtual printer takes about `seconds` to print."""
    lines = ["G28", "G1 Z0.2 F600"]
    moves = int(seconds * 2)  # ~0.5 s per 5 mm move at F600
    for i in range(moves):
        lines.append(f"G1 X{(i % 2) * 5 + 10} Y{10 + (i // 2) % 100 * 0.5:.1f} F600")
        if i % 200 == 0:
            lines.append(f"G1 Z{0.2 + i / 2000:.2f}")
    return ("\n".join(lines) + "\n").encode()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--octo-site", default="/work/octo/site")
    ap.add_argument("--octo-user", default="octo")
    ap.add_argument("--sdk", default="", help="PYTHONPATH entry holding Prusa's SDK and its deps")
    ap.add_argument("--idle", type=int, default=600, help="seconds measured idle")
    ap.add_argument("--print", dest="print_s", type=int, default=600,
                    help="seconds measured printing")
    ap.add_argument("--warmup", type=int, default=60)
    ap.add_argument("--out", default="")
    args = ap.parse_args()

    # What OctoPrint's user may read: the plugin and the module.
    stage = tempfile.mkdtemp(prefix="pc-bench-py-")
    shutil.copytree(os.path.join(ROOT, "build", "python", "prusaconnect"),
                    os.path.join(stage, "prusaconnect"))
    # The plugin installed as pip would (its entry point makes the identifier
    # "prusaconnect"; a plugins-folder copy would be named after its module).
    # From a copy: pip writes build/ and *.egg-info next to the sources.
    source = os.path.join(tempfile.mkdtemp(prefix="pc-bench-src-"), "octoprint_plugin")
    shutil.copytree(os.path.join(ROOT, "examples", "octoprint_plugin"), source)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--no-build-isolation", "--target", stage, source], check=True)
    subprocess.run(["chmod", "-R", "a+rX", stage], check=True)
    for lib in os.listdir(os.path.join(ROOT, "build", "src")):
        if lib.startswith("libprusaconnect.so"):
            shutil.copy2(os.path.join(ROOT, "build", "src", lib), stage)
    emulator = Emulator(os.path.join(ROOT, "build", "src", "emulator", "prusaconnect-emulator"))
    path = f"{args.octo_site}:{stage}"
    configs = [("none", path, {}, False), ("ours", path, {}, True)]
    if args.sdk:
        configs.append(("reference", f"{path}:{args.sdk}",
                        {"PRUSACONNECT_PLUGIN_SDK": "reference"}, True))
    servers = [OctoPrint(name, args, emulator, pp, extra, plugin)
               for name, pp, extra, plugin in configs]
    try:
        for s in servers:
            if not s.up():
                raise SystemExit(f"{s.name}: OctoPrint did not come up; see {s.base}")
        time.sleep(args.warmup)
        idle = measure(servers, args.idle)
        gcode = print_gcode(args.print_s + 120)
        for s in servers:
            s.start_print(gcode)
        time.sleep(20)
        printing = measure(servers, args.print_s)
        telemetry = {s.name: emulator.printer(s.fp)["telemetry_count"] for s in servers
                     if s.name != "none"}
    finally:
        for s in servers:
            s.stop()
        emulator.stop()
    result = {"idle": idle, "printing": printing, "telemetry_requests": telemetry,
              "idle_s": args.idle, "print_s": args.print_s}
    for phase in ("idle", "printing"):
        base = result[phase]["none"]
        for name in ("ours", "reference"):
            if name in result[phase]:
                r = result[phase][name]
                r["added_cpu_s_per_min"] = round(r["cpu_s_per_min"] - base["cpu_s_per_min"], 3)
                r["added_rss_kb"] = r["rss_mean_kb"] - base["rss_mean_kb"]
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
