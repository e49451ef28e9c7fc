"""The emulator's user API itself (src/emulator/user_api.cc): its shapes
and errors as Connect's (python-prusa-connect-sdk-client's inferred OpenAPI:
bearer token, {"printers": [...], "pager"}, {"commands": [...]},
{"code", "message", "reason"} errors)."""
import json
import urllib.error
import urllib.request

from harness import WAIT
from test_cli import FakePrinter


def call(emulator, method, path, body=None, token=None):
    token = token if token is not None else emulator.api("GET", "/api/user-token")["token"]
    req = urllib.request.Request(emulator.url + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=WAIT) as r:
            return r.status, json.loads(r.read() or b"null"), r.headers
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null"), e.headers


def test_pages_and_printer_fields(emulator):
    printers = [FakePrinter(emulator, f"SN-PAGE-{i}") for i in range(3)]
    printers[0].telemetry("PRINTING")
    status, page, _ = call(emulator, "GET", "/app/printers?limit=2&offset=1")
    assert status == 200
    assert page["pager"] == {"limit": 2, "offset": 1, "total": 3}
    assert len(page["printers"]) == 2
    status, everything, _ = call(emulator, "GET", "/app/printers")
    by_name = {p["name"]: p for p in everything["printers"]}
    busy = by_name["SN-PAGE-0"]
    assert busy["printer_state"] == busy["state"] == "PRINTING"
    assert busy["connect_state"] == "ONLINE"
    assert busy["temp"] == {"temp_nozzle": 21.5}
    # Never heard from: OFFLINE, and commands with state limits are refused.
    quiet = by_name["SN-PAGE-1"]
    assert quiet["printer_state"] == "OFFLINE"
    status, error, _ = call(emulator, "POST", f"/app/printers/{quiet['uuid']}/commands/sync",
                            {"command": "START_PRINT", "kwargs": {"path": "/a.gcode"}})
    assert status == 400
    assert error["message"] == "START_PRINT cannot run while the printer is OFFLINE"
    status, one, _ = call(emulator, "GET", f"/app/printers/{busy['uuid']}")
    assert status == 200 and one["uuid"] == busy["uuid"]


def test_errors(emulator):
    p = FakePrinter(emulator, "SN-ERR-1")
    p.telemetry("IDLE")
    status, error, _ = call(emulator, "GET", "/app/printers", token="nope")
    assert status == 401
    assert error == {"code": "UNAUTHORIZED", "message": "Missing or invalid security token"}
    status, error, _ = call(emulator, "GET", "/app/printers/0000/supported-commands")
    assert status == 404 and error["code"] == "NOT_FOUND_PRINTER"
    uuid = call(emulator, "GET", "/app/printers")[1]["printers"][0]["uuid"]
    status, error, headers = call(emulator, "DELETE", f"/app/printers/{uuid}")
    assert status == 405 and headers["Allow"] == "GET"
    status, error, _ = call(emulator, "POST", f"/app/printers/{uuid}/commands/sync", {"kwargs": {}})
    assert status == 400 and error["message"] == '"command" (a string) is required.'
    status, error, _ = call(emulator, "POST", f"/app/printers/{uuid}/commands/sync",
                            {"command": "START_PRINT", "kwargs": {"path": "/a", "speed": 2}})
    assert status == 400 and "unknown argument 'speed'" in error["message"]
    status, _, _ = call(emulator, "GET", "/app/printers?limit=x")
    assert status == 400
    # Both paths list the commands.
    a = call(emulator, "GET", f"/app/printers/{uuid}/supported-commands")[1]
    b = call(emulator, "GET", f"/app/printers/{uuid}/commands")[1]
    assert a == b and a["commands"][0]["command"] == "SEND_INFO"
