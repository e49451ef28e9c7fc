"""Fixtures for prusaconnect-bridge's integration tests: the Connect
emulator, fake Moonrakers (fake_moonraker.py), fake OctoPrints
(tests/octoprint/fake_octoprint.py) and bridge processes.

CTest sets PRUSACONNECT_EMULATOR and PRUSACONNECT_BRIDGE. By hand:
    PRUSACONNECT_EMULATOR=build/src/emulator/prusaconnect-emulator \\
    PRUSACONNECT_BRIDGE=build/examples/bridge/prusaconnect-bridge \\
        /usr/bin/python3 -m pytest -q tests/bridge
"""
import os
import signal
import subprocess
import sys
import tempfile
import uuid

import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "octoprint"))
from fake_moonraker import FakeMoonraker  # noqa: E402
from harness import WAIT, Emulator, fingerprint, wait_for  # noqa: E402,F401


def _exe(var):
    path = os.environ.get(var, "")
    if not path or not os.access(path, os.X_OK):
        pytest.skip(f"{var} does not name an executable")
    return path


@pytest.fixture(scope="session")
def emulator():
    emu = Emulator(_exe("PRUSACONNECT_EMULATOR"))
    yield emu
    emu.stop()


@pytest.fixture
def moonraker():
    made = []

    def make(**kw):
        f = FakeMoonraker(**kw).start()
        made.append(f)
        return f
    yield make
    for f in made:
        f.stop()


class Bridge:
    """A prusaconnect-bridge process with its config file and state folder."""

    def __init__(self, emulator, printers, root=None, extra_bridge="", notify=()):
        self.exe = _exe("PRUSACONNECT_BRIDGE")
        self.emulator = emulator
        self.root = root or tempfile.mkdtemp(prefix="pc-bridge-")
        self.state = os.path.join(self.root, "state")
        self.config = os.path.join(self.root, "bridge.toml")
        self.extra_bridge = extra_bridge
        self.notify = list(notify)
        self.write(printers)
        self.err_path = os.path.join(self.root, "bridge.stderr")
        self.proc = None

    def write(self, printers):
        # The status API on a free port (the default 8421 would be shared by
        # every bridge of the run); api_url() reads where it went.
        api = "" if "api_listen" in self.extra_bridge else 'api_listen = "127.0.0.1:0"'
        lines = ["[bridge]", f'connect_server = "{self.emulator.url}"',
                 f'state_dir = "{self.state}"', 'log_level = "debug"', api, self.extra_bridge,
                 ""]
        for table, p in [("printer", p) for p in printers] + \
                [("notify", n) for n in self.notify]:
            lines.append(f"[[{table}]]")
            for k, v in p.items():
                lines.append(f"{k} = {v!r}" if isinstance(v, str) else
                             f"{k} = {str(v).lower()}" if isinstance(v, bool) else f"{k} = {v}")
            lines.append("")
        text = "\n".join(lines).replace("'", '"')
        with open(self.config, "w") as f:
            f.write(text)

    def provision(self, name, sn=None):
        """Identity and token for printer `name`, registered in the emulator:
        it goes online without the registration dance. Returns its fingerprint."""
        # Unique for the whole session: the emulator outlives each test, and
        # a reused serial would match an earlier test's events.
        sn = sn or f"TEST-{name}-{uuid.uuid4().hex[:12]}"
        fp, token = self.emulator.add_printer(sn, "1.3.1")
        d = os.path.join(self.state, name)
        os.makedirs(d, mode=0o700, exist_ok=True)
        with open(os.path.join(d, "identity"), "w") as f:
            f.write(f"serial={sn}\nsource=test\n")
        with open(os.path.join(d, "token"), "w") as f:
            f.write(token + "\n")
        return fp

    def start(self):
        self.err = open(self.err_path, "a+")
        self.proc = subprocess.Popen([self.exe, "--config", self.config],
                                     stdout=subprocess.DEVNULL, stderr=self.err)
        return self

    def run(self, *args):
        return subprocess.run([self.exe, "--config", self.config, *args], capture_output=True,
                              text=True, timeout=WAIT)

    def api_url(self):
        """The status API's base URL ("http://127.0.0.1:PORT/") once it listens."""
        path = os.path.join(self.state, "api-url")
        assert wait_for(lambda: os.path.exists(path)), self.stderr()[-2000:]
        with open(path) as f:
            return f.read().strip()

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def wait_log(self, text, timeout=WAIT):
        return wait_for(lambda: text in self.stderr(), timeout, interval=0.05)

    def reload(self):
        self.proc.send_signal(signal.SIGHUP)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.err.close()
        return self.proc.returncode if self.proc else None


@pytest.fixture
def bridges(emulator):
    made = []

    def make(printers, **kw):
        b = Bridge(emulator, printers, **kw)
        made.append(b)
        return b
    yield make
    for b in made:
        rc = b.stop()
        assert rc in (0, None), f"the bridge exited with {rc}:\n{b.stderr()[-3000:]}"
