#!/usr/bin/python3
"""The bridge against a REAL Klipper + Moonraker (not in CI).

Start the lab first (../shared/recipes/klipper-lab: setup.sh, then
run.sh start; Moonraker on 127.0.0.1:7125, this machine a trusted client),
then:

    /usr/bin/python3 tests/bridge/e2e_real_moonraker.py --build build \\
        --lab /work/klab [--gcode /work/klab/testfiles/lab_square.gcode]

Scenarios, each printed PASS/FAIL with what was seen:
  register     a new printer: identity from machine.system_info, the code
               flow, the token stored
  download     a G-code file downloaded from Connect is uploaded to
               Moonraker and printed; telemetry through the whole print
               (temperatures, progress, times, Z); FINISHED
  control      START_PRINT, PAUSE, RESUME, STOP -> PRINTING/PAUSED/STOPPED
  gcode        G28 finishes; an unknown command fails with Klipper's text
  shutdown     M112 -> ATTENTION with Klipper's reason; RESET_PRINTER ->
               firmware_restart -> IDLE
  restart      Moonraker restarted: ERROR with the reason, then back
  status-api   the status API during the real print (temperatures, job,
               state as Connect saw it) and the webhook notifications it
               caused (job started/finished, paused, resumed, attention,
               lost/back), in order
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "octoprint"))
sys.path.insert(0, HERE)
from fake_notify import FakeNotify  # noqa: E402
from harness import Emulator, fingerprint, wait_for  # noqa: E402

RESULTS = []


def ts(event):
    return float(event["timestamp"])


def check(name, ok, seen):
    RESULTS.append((name, bool(ok), seen))
    print(("PASS " if ok else "FAIL ") + name + ": " + seen, flush=True)
    return ok


def states_since(emu, fp, t0):
    return [(round(ts(e) - t0, 1), e["state"], e["body"].get("reason"))
            for e in emu.events(fp, "STATE_CHANGED") if ts(e) >= t0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--lab", default="/work/klab")
    ap.add_argument("--url", default="http://127.0.0.1:7125")
    ap.add_argument("--gcode", default=None)
    args = ap.parse_args()
    gcode = args.gcode or os.path.join(args.lab, "testfiles", "lab_square.gcode")
    work = tempfile.mkdtemp(prefix="e2e-moonraker-")
    store = os.path.join(work, "store")
    os.makedirs(store)
    data = open(gcode, "rb").read()
    h = hashlib.sha1(data).hexdigest()
    with open(os.path.join(store, h), "wb") as f:
        f.write(data)
    emu = Emulator(os.path.join(args.build, "src/emulator/prusaconnect-emulator"))
    # The harness starts the emulator without a file store: restart it with one.
    emu.proc.terminate()
    emu.proc.wait()
    port_file = os.path.join(work, "eport")
    emu.proc = subprocess.Popen([os.path.join(args.build, "src/emulator/prusaconnect-emulator"),
                                 "--port", "0", "--port-file", port_file, "--file-store", store],
                                stdout=subprocess.DEVNULL, stderr=emu.log)
    wait_for(lambda: os.path.exists(port_file) and open(port_file).read().strip())
    emu.url = f"http://127.0.0.1:{open(port_file).read().strip()}"
    state = os.path.join(work, "state")
    config = os.path.join(work, "bridge.toml")
    hook = FakeNotify().start()
    with open(config, "w") as f:
        f.write(f'[bridge]\nconnect_server = "{emu.url}"\nstate_dir = "{state}"\n'
                f'log_level = "debug"\napi_listen = "127.0.0.1:0"\n\n'
                f'[[printer]]\nname = "klipper"\nhost = "moonraker"\n'
                f'url = "{args.url}"\nprinting_interval_ms = 1000\nidle_interval_ms = 2000\n\n'
                f'[[notify]]\nname = "hook"\nkind = "webhook"\nurl = "{hook.url}/hook"\n'
                f'progress_every = 25\n')
    api_samples = []

    def api(path):
        base = open(os.path.join(state, "api-url")).read().strip()
        with urllib.request.urlopen(base + path, timeout=10) as r:
            return json.loads(r.read())
    err_path = os.path.join(work, "bridge.stderr")
    err = open(err_path, "w")
    bridge = subprocess.Popen([os.path.join(args.build, "examples/bridge/prusaconnect-bridge"),
                               "--config", config], stderr=err)

    def log():
        return open(err_path).read()
    try:
        # register
        code = wait_for(lambda: [c for c in emu.codes() if not c.get("approved")], 60)
        for c in code or []:
            emu.approve(c["code"])
        ok = wait_for(lambda: "registered: the token is stored" in log(), 60)
        ident = open(os.path.join(state, "klipper", "identity")).read().strip().replace("\n", " ")
        check("register", ok, ident)
        sn = ident.split()[0][7:]
        fp = fingerprint(sn)
        wait_for(lambda: emu.telemetry(fp).get("state") in ("IDLE", "READY"), 30)
        # download -> print to the end
        emu.api("POST", "/api/files", {"team_id": 7, "hash": h, "size": len(data), "path": h})
        t0 = time.time()
        cid = emu.queue(fp, "START_CONNECT_DOWNLOAD", {"path": "/local/e2e/lab_square.gcode",
                                                      "team_id": 7, "hash": h, "printing": True})
        r = emu.wait_result(fp, cid, 30)
        printing = emu.wait_event(fp, "STATE_CHANGED", timeout=120,
                                  pred=lambda e: e["state"] == "PRINTING" and
                                  ts(e) >= t0)
        samples = []
        deadline = time.time() + 600
        while time.time() < deadline:
            t = emu.telemetry(fp)
            samples.append(t)
            api_samples.append(api("api/printer/klipper"))
            if any(e["state"] == "FINISHED" and ts(e) >= t0
                   for e in emu.events(fp, "STATE_CHANGED")):
                break
            time.sleep(1)
        finished = [e for e in emu.events(fp, "STATE_CHANGED")
                    if e["state"] == "FINISHED" and ts(e) >= t0]
        progress = sorted({s.get("progress") for s in samples if s.get("progress") is not None})
        temps = max((s.get("temp_nozzle") or 0) for s in samples)
        zs = sorted({s.get("axis_z") for s in samples if s.get("axis_z") is not None})
        remaining = [s.get("time_remaining") for s in samples if s.get("time_remaining")]
        check("download", r and r["event"] == "TRANSFER_INFO" and printing and finished,
              f"job {printing and printing['body'].get('job_id')}, progress {progress[:3]}…"
              f"{progress[-3:]}, max nozzle {temps}, Z {zs[:2]}…{zs[-2:]}, remaining "
              f"{remaining[:1]}…{remaining[-1:]}, states {states_since(emu, fp, t0)}")
        # control
        t0 = time.time()
        steps = []
        for cmd, kw, want in (("START_PRINT", {"path": "/local/e2e/lab_square.gcode"}, "PRINTING"),
                              ("PAUSE_PRINT", None, "PAUSED"), ("RESUME_PRINT", None, "PRINTING"),
                              ("STOP_PRINT", None, "STOPPED")):
            t1 = time.time()
            cid = emu.queue(fp, cmd, kw)
            res = emu.wait_result(fp, cid, 120)
            ev = emu.wait_event(fp, "STATE_CHANGED", timeout=180,
                                pred=lambda e, w=want, t=t1: e["state"] == w and
                                ts(e) >= t)
            steps.append((cmd, res and res["event"], ev and round(ts(ev) - t1, 1)))
            time.sleep(3)
        check("control", all(s[1] == "FINISHED" and s[2] is not None for s in steps), str(steps))
        cid = emu.queue(fp, "SET_PRINTER_READY")
        emu.wait_result(fp, cid, 30)
        # gcode
        cid = emu.queue(fp, "GCODE", {"gcode": "G28"})
        ok1 = emu.wait_result(fp, cid, 180)
        cid = emu.queue(fp, "GCODE", {"gcode": "FROBNICATE"})
        bad = emu.wait_result(fp, cid, 60)
        check("gcode", ok1 and ok1["event"] == "FINISHED" and bad and bad["event"] == "FAILED",
              f"G28 -> {ok1 and ok1['event']}; FROBNICATE -> {bad and bad['event']}: "
              f"{bad and bad['body'].get('reason')}")
        # shutdown + firmware restart
        t0 = time.time()
        cid = emu.queue(fp, "GCODE", {"gcode": "M112"})
        emu.wait_result(fp, cid, 60)
        att = emu.wait_event(fp, "STATE_CHANGED", timeout=60,
                             pred=lambda e: e["state"] == "ATTENTION" and ts(e) >= t0)
        cid = emu.queue(fp, "RESET_PRINTER")
        rr = emu.wait_result(fp, cid, 60)
        back = emu.wait_event(fp, "STATE_CHANGED", timeout=120,
                              pred=lambda e: e["state"] in ("IDLE", "READY") and
                              ts(e) >= (ts(att) if att else t0))
        check("shutdown", att and rr and rr["event"] == "FINISHED" and back,
              f"ATTENTION reason {att and att['body'].get('reason')!r}; RESET_PRINTER -> "
              f"{rr and rr['event']}; states {states_since(emu, fp, t0)}")
        # Moonraker restart
        pidfile = os.path.join(args.lab, "printer_data", "run", "moonraker.pid")
        t0 = time.time()
        os.kill(int(open(pidfile).read()), signal.SIGTERM)
        down = emu.wait_event(fp, "STATE_CHANGED", timeout=60,
                              pred=lambda e: e["state"] == "ERROR" and ts(e) >= t0)
        time.sleep(3)
        subprocess.run([os.path.join(args.lab, "run.sh"), "start"], capture_output=True,
                       timeout=120)
        up = emu.wait_event(fp, "STATE_CHANGED", timeout=120,
                            pred=lambda e: e["state"] in ("IDLE", "READY") and
                            ts(e) >= (ts(down) if down else t0))
        check("restart", down and up, f"ERROR {down and down['body'].get('reason')!r}, then "
              f"{up and up['state']} after {up and down and round(ts(up) - ts(down), 1)} s")
        # status API and notifications, over everything above
        printing_api = [a for a in api_samples if a["state"] == "PRINTING" and a["job"]]
        events = [(m["fields"]["event"], m["fields"].get("state") or m["fields"].get("progress"))
                  for m in hook.messages("webhook")]
        want = ["job_started", "job_finished", "state", "error", "printer_lost", "printer_back"]
        seen = [e for e, _ in events]
        check("status-api", printing_api and all(a["temperatures"]["nozzle"] for a in printing_api)
              and printing_api[-1]["job"]["file"] == "e2e/lab_square.gcode"
              and all(w in seen for w in want),
              f"{len(printing_api)} API samples while printing (last: nozzle "
              f"{printing_api and printing_api[-1]['temperatures']['nozzle']}, job "
              f"{printing_api and printing_api[-1]['job']}); webhooks: {events}")
    finally:
        hook.stop()
        bridge.send_signal(signal.SIGTERM)
        bridge.wait(60)
        emu.stop()
        print(f"bridge log: {err_path}")
    failed = [n for n, ok, _ in RESULTS if not ok]
    print(json.dumps({"passed": len(RESULTS) - len(failed), "failed": failed}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
