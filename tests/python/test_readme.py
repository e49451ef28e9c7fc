"""The SDK's README, as programs (tests/python/readme/*.py), run against the
emulator with only the import changed to `prusaconnect`.

Each program is written for prusa-connect-sdk-printer 0.8.1 itself
(`from prusa.connect.printer import Printer, const`). When
PRUSACONNECT_REFERENCE_SDK names a checkout of the SDK, every program also
runs unchanged on the SDK, and what the emulator received from both is
compared; the expectations below hold for both. (The SDK needs Debian's
python3-requests; stand-ins for inotify_simple and gcode_metadata, which
importing it requires, are written to the test's temporary directory.)
"""
import hashlib
import itertools
import os
import subprocess
import sys
import threading

import pytest

from conftest import WAIT, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
SDK = os.environ.get("PRUSACONNECT_REFERENCE_SDK", "")
IMPLEMENTATIONS = ["prusaconnect"]
if SDK and os.path.isfile(os.path.join(SDK, "prusa", "connect", "printer", "__init__.py")):
    IMPLEMENTATIONS.append("sdk")

SDK_IMPORT = "from prusa.connect.printer import Printer, const"

STANDINS = {
    "inotify_simple.py": '''
"""Stand-in for inotify_simple (only what constructing a Printer needs)."""
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
"""Stand-in for gcode-metadata (only what importing the SDK needs)."""
class UnknownGcodeFileType(ValueError):
    pass
def get_metadata(path, *args, **kwargs):
    raise UnknownGcodeFileType(path)
''',
}


class Program:
    """One README program run as a separate process."""

    def __init__(self, impl, name, tmp_path, env):
        with open(os.path.join(HERE, "readme", name)) as f:
            text = f.read()
        assert text.count(SDK_IMPORT) == 1
        run_env = dict(os.environ, **env)
        if impl == "prusaconnect":
            text = text.replace(SDK_IMPORT, "from prusaconnect import Printer, const")
        else:
            standins = tmp_path / "standins"
            standins.mkdir(exist_ok=True)
            for module, source in STANDINS.items():
                (standins / module).write_text(source)
            run_env["PYTHONPATH"] = os.pathsep.join([SDK, str(standins)])
        script = tmp_path / f"{impl}_{name}"
        script.write_text(text)
        self.lines = []
        self.proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=run_env)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_line(self, prefix):
        return wait_for(lambda: next((l for l in self.lines if l.startswith(prefix)), None),
                        timeout=60)

    def finish(self):
        try:
            self.proc.wait(90)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        self.reader.join(5)
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        assert self.proc.returncode == 0, err
        return self.lines


def summary(events):
    """What matters of the events, without the ids the emulator assigned."""
    out = []
    for e in events:
        b = e["body"]
        out.append((b["event"], b["source"], b.get("state"), b.get("reason"),
                    "command_id" in b, b["data"]))
    return out


RESULTS = {}  # (program, impl) -> what the emulator received
_serial = itertools.count(1)


def readme_printer(emulator, impl):
    """A registered printer whose fingerprint is the SHA-256 of its serial
    number, as the README computes it."""
    sn = f"SN-README-{impl}-{os.getpid()}-{next(_serial)}"
    return emulator.add_printer(sn, "1.3.0", hashlib.sha256(sn.encode()).hexdigest())


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_readme_registration(emulator, tmp_path, impl):
    sn = f"SN-README-REG-{impl}-{os.getpid()}"
    fp = f"fp-{sn}"
    program = Program(impl, "registration.py", tmp_path,
                      {"CONNECT_SERVER": emulator.url, "PRINTER_SN": sn,
                       "PRINTER_FINGERPRINT": fp})
    line = program.wait_line("Use this code `")
    assert line, program.lines
    code = line.split("`")[1]
    token = emulator.approve(code)
    lines = program.finish()
    assert lines[-1] == f"Printer is registered with token {token}"
    info = emulator.printer(fp)
    assert (info["sn"], info["type"], info["firmware"]) == (sn, "1.3.0", "3.14.1")
    telemetry = [t["telemetry"] for t in emulator.telemetry(fp)]
    assert telemetry == [{"temp_nozzle": 24.1, "temp_bed": 23.2, "state": "BUSY"}]
    assert emulator.protocol_errors(fp) == []


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_readme_telemetry_events_state(emulator, tmp_path, impl):
    sn, fp, token = readme_printer(emulator, impl)
    program = Program(impl, "telemetry_events_state.py", tmp_path,
                      {"CONNECT_SERVER": emulator.url, "PRINTER_SN": sn, "PRINTER_TOKEN": token})
    assert program.finish() == ["done"]
    telemetry = [t["telemetry"] for t in emulator.telemetry(fp)]
    assert telemetry == [{"temp_nozzle": 24.1, "temp_bed": 23.2, "state": "BUSY"}] * 3
    events = summary(emulator.events(fp))
    assert events == [
        ("FAILED", "WUI", "BUSY", "Filament runout", False, {}),
        ("STATE_CHANGED", "MARLIN", "READY", None, False, {}),
        ("STATE_CHANGED", "MARLIN", "BUSY", None, False, {}),
        ("STATE_CHANGED", "MARLIN", "READY", None, False, {}),
        ("STATE_CHANGED", "MARLIN", "BUSY", None, False, {}),
    ]
    assert emulator.protocol_errors(fp) == []
    RESULTS[("telemetry_events_state", impl)] = (telemetry, events)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_readme_commands(emulator, tmp_path, impl):
    sn, fp, token = readme_printer(emulator, impl)
    program = Program(impl, "commands.py", tmp_path,
                      {"CONNECT_SERVER": emulator.url, "PRINTER_SN": sn, "PRINTER_TOKEN": token})
    # One command at a time, as Connect does.
    cid = emulator.queue(fp, "SEND_INFO")
    assert emulator.wait_event(fp, "INFO", cid, timeout=60)
    cid = emulator.queue(fp, "START_PRINT", kwargs={"path": "/usb/box.gcode"})
    assert emulator.wait_event(fp, "FINISHED", cid, timeout=60)
    cid = emulator.queue(fp, "STOP_PRINT", kwargs={"path": "/usb/box.gcode"})
    assert emulator.wait_event(fp, "JOB_INFO", cid, timeout=60)
    lines = program.finish()
    assert lines == ["Printing file: {args[0]}", "Printing stopped", "done"]
    events = summary(emulator.events(fp))
    info = events[2]
    assert info[:5] == ("INFO", "CONNECT", "READY", None, True)
    assert {k: info[5][k] for k in ("type", "version", "subversion", "sdk", "sn",
                                    "fingerprint", "network_info", "files", "mmu")} == {
        "type": 1, "version": 3, "subversion": 0, "sdk": "0.8.1", "sn": sn,
        "fingerprint": fp, "network_info": {},
        "files": {"type": "DIR", "name": "/", "read_only": True, "children": []},
        "mmu": {"enabled": False}}
    assert events[:2] + events[3:] == [
        ("STATE_CHANGED", "CONNECT", "READY", None, False, {}),
        ("ACCEPTED", "CONNECT", "READY", None, True, {}),
        ("ACCEPTED", "CONNECT", "READY", None, True, {}),
        ("STATE_CHANGED", "CONNECT", "PRINTING", None, False, {}),
        ("FINISHED", "CONNECT", "PRINTING", None, True, {}),
        ("ACCEPTED", "CONNECT", "PRINTING", None, True, {}),
        ("STATE_CHANGED", "CONNECT", "READY", None, False, {}),
        ("JOB_INFO", "CONNECT", "READY", None, True, {"path": "/usb/box.gcode"}),
    ]
    assert emulator.protocol_errors(fp) == []
    RESULTS[("commands", impl)] = [
        e if e[0] != "INFO" else
        e[:5] + ({k: v for k, v in e[5].items() if k not in ("sn", "fingerprint")},)
        for e in events]


@pytest.mark.skipif(len(IMPLEMENTATIONS) < 2, reason="PRUSACONNECT_REFERENCE_SDK not set")
def test_readme_programs_send_the_same_as_the_sdk():
    for program in ("telemetry_events_state", "commands"):
        if (program, "sdk") in RESULTS and (program, "prusaconnect") in RESULTS:
            assert RESULTS[(program, "prusaconnect")] == RESULTS[(program, "sdk")]
