"""The plugin's pure rules against the tables the daemon's tests run too
(tests/octoprint/tables): OctoPrint state -> Connect state, G-code for
Marlin, identity from the M115 report."""
import hashlib
import json
import os

import pytest

from octoprint_prusaconnect import gcode, identity, states

TABLES = os.path.join(os.path.dirname(__file__), "..", "octoprint", "tables")


def cases(name):
    with open(os.path.join(TABLES, name), encoding="utf-8") as f:
        return json.load(f)["cases"]


@pytest.mark.parametrize("case", cases("states.json"), ids=lambda c: c["text"] or "empty")
def test_states(case):
    octo = states.classify(case.get("flags"), case["text"], case.get("reachable", True))
    assert octo == case["octo"]
    assert states.connect_state(octo) == case["connect"]


@pytest.mark.parametrize("case", cases("gcode.json"), ids=lambda c: c["gcode"][:20] or "empty")
def test_gcode(case):
    ok, lines, why = gcode.translate(case["gcode"])
    if "lines" in case:
        assert ok, why
        assert lines == case["lines"]
    else:
        assert not ok and lines == []
        assert case["refused"] in why


@pytest.mark.parametrize("case", cases("identity.json"), ids=lambda c: c["name"])
def test_identity(case):
    serial, source = identity.serial_from_firmware(case["m115"])
    assert (serial, source) == (case["serial"], case["source"])
    assert identity.from_printer(source) == bool(serial)


def test_mac_and_random_fallbacks(tmp_path):
    (tmp_path / "lo").mkdir()
    (tmp_path / "lo" / "address").write_text("00:00:00:00:00:00\n")
    (tmp_path / "eth0").mkdir()
    (tmp_path / "eth0" / "address").write_text("b8:27:eb:12:34:56\n")
    assert identity.serial_from_mac(str(tmp_path)) == "OCTO-B827EB123456"
    assert identity.serial_from_mac(str(tmp_path / "missing")) == ""
    serial, source = identity.fallback()
    assert source in ("mac", "random") and serial
    # As the daemon: SHA-256 hex of the serial number.
    assert identity.fingerprint("SN1") == hashlib.sha256(b"SN1").hexdigest()
