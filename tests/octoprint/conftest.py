"""Fixtures: the Connect emulator, a fake OctoPrint and adapter processes.

CTest sets PRUSACONNECT_EMULATOR and PRUSACONNECT_OCTOPRINT_ADAPTER. By hand:
    PRUSACONNECT_EMULATOR=build/src/emulator/prusaconnect-emulator \\
    PRUSACONNECT_OCTOPRINT_ADAPTER=build/examples/octoprint_adapter/prusaconnect-octoprint \\
        /usr/bin/python3 -m pytest -q tests/octoprint
"""
import itertools
import os
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from fake_octoprint import FakeOctoPrint  # noqa: E402
from harness import Adapter, Emulator, make_state, wait_for  # noqa: E402

_n = itertools.count(1)


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
def fake():
    f = FakeOctoPrint(api_key="KEY").start()
    yield f
    f.stop()


@pytest.fixture
def workdir():
    return tempfile.mkdtemp(prefix="pc-octo-test-")


@pytest.fixture
def adapters():
    """Starts adapters; stops them (SIGTERM) after the test."""
    path = _exe("PRUSACONNECT_OCTOPRINT_ADAPTER")
    started = []

    def start(state_dir, octoprint_url, server, *extra, api_key="KEY"):
        a = Adapter(path, state_dir, octoprint_url, server, *extra, api_key=api_key)
        started.append(a)
        return a

    yield start
    for a in started:
        a.stop()


@pytest.fixture
def online(emulator, fake, workdir, adapters):
    """A registered adapter in front of the fake OctoPrint: (fp, adapter)."""
    def make(*extra):
        sn = f"OCTO-TEST-{os.getpid()}-{next(_n)}"
        fp, token = emulator.add_printer(sn)
        state = make_state(workdir, sn=sn, token=token)
        a = adapters(state, fake.url, emulator.url, *extra)
        assert emulator.wait_state(fp, "IDLE"), a.stderr()
        # IDLE is reported before OctoPrint's files are attached (the same
        # step, a moment later): tests that use the files wait for both.
        assert wait_for(lambda: "OctoPrint's files attached as storage" in a.stderr()), \
            a.stderr()
        return fp, a
    return make
