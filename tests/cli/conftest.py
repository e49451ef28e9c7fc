"""Fixtures of the CLI, user-API and page tests: the emulator executable on
loopback (tests/octoprint/harness.py) and a headless Chromium
(tests/bridge/chromium.py)."""
import os
import sys

import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "octoprint"))
sys.path.insert(0, os.path.join(HERE, "..", "bridge"))
from chromium import browser  # noqa: E402,F401  (the fixture)
from harness import Emulator  # noqa: E402

EMULATOR = os.environ.get("PRUSACONNECT_EMULATOR", "prusaconnect-emulator")


@pytest.fixture
def emulator():
    e = Emulator(EMULATOR)
    yield e
    e.stop()
