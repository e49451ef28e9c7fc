"""Fixtures of the Python bindings' tests: the emulator and its control API.

CTest sets PRUSACONNECT_EMULATOR to the prusaconnect-emulator executable and
PYTHONPATH to the build tree's python/ directory (see bindings/CMakeLists.txt).
Run by hand:

    PYTHONPATH=build/python PRUSACONNECT_EMULATOR=build/src/emulator/prusaconnect-emulator \\
        /usr/bin/python3 -m pytest -q tests/python
"""
import itertools
import json
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

WAIT = 30.0  # seconds: every wait is bounded, none is a bare sleep
_counter = itertools.count(1)


def wait_for(predicate, timeout=WAIT, interval=0.01):
    """Polls `predicate` until it returns a truthy value or `timeout` ends."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            return value
        time.sleep(interval)


class Emulator:
    """A prusaconnect-emulator process on an ephemeral loopback port."""

    def __init__(self, path, *args):
        self.dir = tempfile.mkdtemp(prefix="pc-pytest-emu-")
        port_file = os.path.join(self.dir, "port")
        self.log = open(os.path.join(self.dir, "stderr"), "w+")
        self.proc = subprocess.Popen(
            [path, "--port", "0", "--port-file", port_file, *args],
            stdout=subprocess.DEVNULL, stderr=self.log)
        port = None
        deadline = time.monotonic() + WAIT
        while port is None:
            if self.proc.poll() is not None:
                raise RuntimeError(f"emulator exited with {self.proc.returncode}")
            if time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError("emulator did not start")
            try:
                with open(port_file) as f:
                    port = int(f.read().strip())
            except (OSError, ValueError):
                time.sleep(0.01)
        self.url = f"http://127.0.0.1:{port}"

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    # ---- control API ----
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

    def add_printer(self, sn=None, printer_type="1.3.1", fingerprint=None):
        """A printer known to Connect: returns (sn, fingerprint, token)."""
        sn = sn or f"SN-PY-{os.getpid()}-{next(_counter)}"
        fp = fingerprint or f"fp-{sn}"
        token = self.api("POST", "/api/printers", {
            "fingerprint": fp, "sn": sn, "printer_type": printer_type})["token"]
        return sn, fp, token

    def queue(self, fp, command, kwargs=None, args=None, command_id=None):
        body = {"command": command}
        if kwargs is not None:
            body["kwargs"] = kwargs
        if args is not None:
            body["args"] = args
        if command_id is not None:
            body["command_id"] = command_id
        return self.api("POST", f"/api/printers/{fp}/commands", body)["command_id"]

    def queue_gcode(self, fp, gcode, force=False):
        return self.api("POST", f"/api/printers/{fp}/commands",
                        {"gcode": gcode, "force": force})["command_id"]

    def queue_raw(self, fp, status=200, headers=None, body=""):
        return self.api("POST", f"/api/printers/{fp}/commands",
                        {"raw": {"status": status, "headers": headers or {}, "body": body}})

    def printer(self, fp):
        return self.api("GET", f"/api/printers/{fp}")

    def events(self, fp, name=None):
        events = self.api("GET", f"/api/printers/{fp}/events")
        return [e for e in events if name is None or e["event"] == name]

    def telemetry(self, fp):
        return self.api("GET", f"/api/printers/{fp}/telemetry")

    def wait_event(self, fp, name, command_id=None, timeout=WAIT):
        def find():
            for e in self.events(fp, name):
                if command_id is None or e["command_id"] == command_id:
                    return e
            return None
        return wait_for(find, timeout, 0.02)

    def wait_events(self, fp, count, timeout=WAIT):
        return wait_for(lambda: len(self.events(fp)) >= count, timeout, 0.02)

    def codes(self):
        return self.api("GET", "/api/codes")

    def approve(self, code):
        return self.api("POST", f"/api/codes/{code}/approve")["token"]

    def fault(self, rule):
        return self.api("POST", "/api/faults", rule)

    def clear_faults(self):
        self.api("DELETE", "/api/faults")

    def protocol_errors(self, fp):
        return self.api("GET", f"/api/protocol_errors?fingerprint={fp}")


def emulator_path():
    path = os.environ.get("PRUSACONNECT_EMULATOR", "")
    return path if path and os.access(path, os.X_OK) else None


@pytest.fixture(scope="session")
def emulator():
    path = emulator_path()
    if path is None:
        pytest.skip("PRUSACONNECT_EMULATOR does not name the emulator executable")
    emu = Emulator(path)
    yield emu
    emu.stop()


@pytest.fixture
def make_printer(emulator):
    """Creates registered printers (token set) that are stopped afterwards."""
    from prusaconnect import Printer, const

    made = []

    def make(type_=const.PrinterType.I3MK3S, start=True, **options):
        sn, fp, token = emulator.add_printer(printer_type=str(type_))
        printer = Printer(type_, sn, fp, **options)
        printer.software = "pytest"
        printer.set_connection(emulator.url, token)
        if start:
            printer.start()
        made.append(printer)
        return printer

    yield make
    for printer in made:
        printer.stop_loop()
        printer.stop()
