"""Processes for the OctoPrint adapter's integration tests: the Connect
emulator (prusaconnect-emulator) and the adapter (prusaconnect-octoprint),
each on loopback; every wait is bounded (WAIT) and polls a condition."""
import hashlib
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

WAIT = 30.0


def wait_for(predicate, timeout=WAIT, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def fingerprint(sn):
    return hashlib.sha256(sn.encode()).hexdigest()


class Emulator:
    def __init__(self, path):
        self.dir = tempfile.mkdtemp(prefix="pc-octo-emu-")
        port_file = os.path.join(self.dir, "port")
        self.log = open(os.path.join(self.dir, "stderr"), "w+")
        self.proc = subprocess.Popen([path, "--port", "0", "--port-file", port_file],
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        port = wait_for(lambda: _read_int(port_file))
        if not port:
            self.proc.kill()
            raise RuntimeError("emulator did not start")
        self.url = f"http://127.0.0.1:{port}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()

    def api(self, method, path, body=None, ok=True):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=WAIT) as r:
                status, text = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        if ok and status != 200:
            raise AssertionError(f"{method} {path} -> {status}: {text!r}")
        return json.loads(text) if text else None

    def add_printer(self, sn, printer_type="1.3.0"):
        fp = fingerprint(sn)
        token = self.api("POST", "/api/printers", {
            "fingerprint": fp, "sn": sn, "printer_type": printer_type})["token"]
        return fp, token

    def queue(self, fp, command, kwargs=None):
        body = {"command": command}
        if kwargs is not None:
            body["kwargs"] = kwargs
        return self.api("POST", f"/api/printers/{fp}/commands", body)["command_id"]

    def printer(self, fp):
        return self.api("GET", f"/api/printers/{fp}")

    def events(self, fp, name=None):
        return [e for e in self.api("GET", f"/api/printers/{fp}/events")
                if name is None or e["event"] == name]

    def telemetry(self, fp):
        """The newest telemetry body, as a dict ({} when none yet)."""
        p = self.printer(fp)
        return p.get("last_telemetry") or {}

    def wait_event(self, fp, name, command_id=None, timeout=WAIT, pred=None):
        def find():
            for e in self.events(fp, name):
                if command_id is not None and e["command_id"] != command_id:
                    continue
                if pred is not None and not pred(e):
                    continue
                return e
            return None
        return wait_for(find, timeout)

    def wait_result(self, fp, command_id, timeout=WAIT):
        """The terminal event of a command (FINISHED, REJECTED, FAILED, INFO, ...)."""
        def find():
            for e in self.events(fp):
                if e["command_id"] == command_id and e["event"] != "ACCEPTED":
                    return e
            return None
        return wait_for(find, timeout)

    def wait_state(self, fp, state, timeout=WAIT):
        return self.wait_event(fp, "STATE_CHANGED", timeout=timeout,
                               pred=lambda e: e["state"] == state)

    def codes(self):
        return self.api("GET", "/api/codes")

    def approve(self, code):
        return self.api("POST", f"/api/codes/{code}/approve")["token"]

    def telemetry_log(self, fp, since=0):
        """Every telemetry body of printer `fp` the emulator logged after log
        entry `since`, oldest first, as (seq, dict)."""
        out = []
        while True:
            page = self.api("GET", f"/api/log?since={since}&limit=10000")
            for e in page["entries"]:
                headers = {k.lower(): v for k, v in e["headers"].items()}
                if e["path"] == "/p/telemetry" and headers.get("fingerprint") == fp and e["body"]:
                    out.append((e["seq"], json.loads(e["body"])))
            if not page["entries"] or page["next_since"] >= page["last_seq"]:
                return out
            since = page["next_since"]

    def last_log_seq(self):
        return self.api("GET", "/api/log?limit=1&since=0")["last_seq"]

    def fault(self, rule):
        return self.api("POST", "/api/faults", rule)

    def clear_faults(self):
        self.api("DELETE", "/api/faults")


def _read_int(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


class Adapter:
    """A prusaconnect-octoprint process."""

    def __init__(self, path, state_dir, octoprint_url, server, *extra, api_key="KEY"):
        self.state_dir = state_dir
        self.out = open(os.path.join(state_dir, "..", "adapter.stdout"), "w+")
        self.err_path = os.path.join(state_dir, "..", "adapter.stderr")
        self.err = open(self.err_path, "w+")
        self.proc = subprocess.Popen(
            [path, "--config", os.devnull, "--octoprint-url", octoprint_url, "--api-key", api_key,
             "--server", server, "--state-dir", state_dir, "--identity-wait-ms", "10000",
             "--log-level", "debug", *extra],
            stdout=self.out, stderr=self.err)

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def stdout(self):
        self.out.flush()
        with open(self.out.name) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        self.err.close()
        return self.proc.returncode


def make_state(root, sn=None, token=None):
    """A state directory, optionally with an identity and a token."""
    state = os.path.join(root, "state")
    os.makedirs(state, mode=0o700, exist_ok=True)
    if sn:
        with open(os.path.join(state, "identity"), "w") as f:
            f.write(f"serial={sn}\nsource=test\n")
    if token:
        with open(os.path.join(state, "token"), "w") as f:
            f.write(token + "\n")
    return state
