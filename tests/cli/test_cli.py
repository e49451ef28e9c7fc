"""prusaconnect-cli end to end against the emulator's user API on loopback:
a fake printer (a registered token sending telemetry, as the printer API
wants it) behind it. What the CLI refuses is never sent (counted at the
emulator); what it sends reaches the printer typed by the definition and
with the defaults filled in; errors are readable and never show the token.

Run by ctest (cli_tests) with PRUSACONNECT_EMULATOR and PRUSACONNECT_CLI."""
import json
import os
import subprocess
import urllib.request

import pytest

from harness import WAIT

CLI = os.environ.get("PRUSACONNECT_CLI", "prusaconnect-cli")


class FakePrinter:
    """A registered printer as far as the emulator can tell: it sends
    telemetry with its token and takes the command of each answer."""

    def __init__(self, emulator, sn):
        self.emulator = emulator
        self.sn = sn
        self.fp, self.token = emulator.add_printer(sn)

    def telemetry(self, state="IDLE"):
        """Sends one telemetry; returns the command of the answer, or None."""
        req = urllib.request.Request(
            self.emulator.url + "/p/telemetry", method="POST",
            data=json.dumps({"state": state, "temp_nozzle": 21.5}).encode(),
            headers={"Content-Type": "application/json", "Token": self.token,
                     "Fingerprint": self.fp, "User-Agent": "libprusaconnect/test",
                     "Timestamp": "1.0"})
        with urllib.request.urlopen(req, timeout=WAIT) as r:
            body = r.read()
            return json.loads(body) if r.status == 200 and body else None


@pytest.fixture
def printer(emulator):
    p = FakePrinter(emulator, "SN-CLI-1")
    assert p.telemetry("IDLE") is None
    return p


def cli(emulator, *args, token=None, env_extra=None):
    env = dict(os.environ)
    env["PRUSACONNECT_SERVER"] = emulator.url
    env["PRUSACONNECT_TOKEN"] = (token if token is not None
                                 else emulator.api("GET", "/api/user-token")["token"])
    env.update(env_extra or {})
    return subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=WAIT)


def sends(emulator):
    stats = emulator.api("GET", "/api/stats")
    by_path = stats.get("by_path", {})
    return sum(by_path.get("/app/printers/{uuid}/commands/sync", {}).values())


def test_printers_and_commands(emulator, printer):
    r = cli(emulator, "printers")
    assert r.returncode == 0, r.stderr
    assert "SN-CLI-1" in r.stdout and "IDLE" in r.stdout
    listed = json.loads(cli(emulator, "printers", "--json").stdout)["printers"]
    assert [p["name"] for p in listed] == ["SN-CLI-1"]
    r = cli(emulator, "commands", "SN-CLI-1")
    assert r.returncode == 0, r.stderr
    assert "START_PRINT path:string" in r.stdout
    assert "from: IDLE READY FINISHED STOPPED" in r.stdout
    defs = json.loads(cli(emulator, "commands", listed[0]["uuid"], "--json").stdout)
    assert {"command", "args", "executable_from_state"} <= set(defs["commands"][0])


@pytest.mark.parametrize("args,reason", [
    (["START_PRINT"], "START_PRINT: missing required argument 'path' (string)"),
    (["PAUSE_PRINT"], "PAUSE_PRINT cannot run while the printer is IDLE (only from PRINTING)"),
    (["STOP_TRANSFER", "transfer_id=abc"], "argument 'transfer_id' is an integer, not 'abc'"),
    (["DELETE_FOLDER", "path=/x", "force=maybe"], "argument 'force' is true or false"),
    (["START_PRINT", "pth=/a.gcode"], "unknown argument 'pth' (it takes path)"),
    (["START_PRINT", "path:=5"], "argument 'path' must be a string, not an integer (5)"),
    (["LEVITATE"], "does not support LEVITATE"),
])
def test_refused_before_sending(emulator, printer, args, reason):
    r = cli(emulator, "send", "SN-CLI-1", *args)
    assert r.returncode == 3, (r.stdout, r.stderr)
    assert reason in r.stderr
    assert sends(emulator) == 0
    assert printer.telemetry("IDLE") is None  # nothing queued for the printer


def test_sent_typed_with_defaults_and_reaches_the_printer(emulator, printer):
    r = cli(emulator, "send", "SN-CLI-1", "DELETE_FOLDER", "path=/usb/old")
    assert r.returncode == 0, r.stderr
    assert "sent DELETE_FOLDER to SN-CLI-1: command" in r.stdout
    assert printer.telemetry("IDLE") == {
        "command": "DELETE_FOLDER", "kwargs": {"path": "/usb/old", "force": False}}
    r = cli(emulator, "send", "SN-CLI-1", "START_CONNECT_DOWNLOAD", "team_id=7", "hash=abc",
            "path=/usb/a.gcode", "printing=yes", "--json")
    assert r.returncode == 0, r.stderr
    sent = json.loads(r.stdout)["command"]
    assert sent["state"] == "CREATED"
    assert printer.telemetry("IDLE")["kwargs"] == {
        "team_id": 7, "hash": "abc", "path": "/usb/a.gcode", "printing": True, "selecting": False}
    # A dry run checks and prints, and sends nothing.
    before = sends(emulator)
    assert before == 2  # the two above: the count sees what is sent
    r = cli(emulator, "send", "SN-CLI-1", "START_PRINT", "path=/usb/a.gcode", "--dry-run")
    assert r.returncode == 0 and "would send START_PRINT" in r.stdout
    assert sends(emulator) == before


def test_state_is_read_fresh(emulator, printer):
    assert cli(emulator, "send", "SN-CLI-1", "PAUSE_PRINT").returncode == 3
    printer.telemetry("PRINTING")
    r = cli(emulator, "send", "SN-CLI-1", "PAUSE_PRINT")
    assert r.returncode == 0, r.stderr


def test_errors_are_readable_and_hide_the_token(emulator, printer, tmp_path):
    r = cli(emulator, "printers", token="secret-wrong-token")
    assert r.returncode == 1
    assert "Connect refused the token (401)" in r.stderr
    assert "secret-wrong-token" not in r.stdout + r.stderr
    r = cli(emulator, "printers", token="")
    assert r.returncode == 2 and "no user API token" in r.stderr
    r = cli(emulator, "--token", "x", "printers")
    assert r.returncode == 2 and "--token-file" in r.stderr
    r = cli(emulator, "send", "SN-NOPE", "SEND_INFO")
    assert r.returncode == 1 and "no printer SN-NOPE" in r.stderr
    r = cli(emulator, "printers", env_extra={"PRUSACONNECT_SERVER": "http://127.0.0.1:1"})
    assert r.returncode == 1 and "cannot reach Connect" in r.stderr
    # The token from a file.
    token_file = tmp_path / "token"
    token_file.write_text(emulator.api("GET", "/api/user-token")["token"] + "\n")
    r = cli(emulator, "--token-file", str(token_file), "printers", token="")
    assert r.returncode == 0, r.stderr
    r = cli(emulator, "frobnicate", "SN-CLI-1")
    assert r.returncode == 2 and "unknown command frobnicate" in r.stderr
    assert "Usage:" in cli(emulator, "--help").stdout
