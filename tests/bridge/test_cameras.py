"""Cameras in the bridge (docs/cameras.md): [[printer.camera]] for any
printer (an HTTP snapshot URL, a command), the watchdog, and standalone
[[camera]] entries with a Connect camera token — against the emulator."""
import json
import os
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import wait_for
from fake_moonraker import JPEG


@pytest.fixture
def webcam():
    """An HTTP camera on loopback answering its snapshot URL with a JPEG."""
    served = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path != "/snapshot.jpg":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            served["n"] += 1
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(JPEG)))
            self.end_headers()
            self.wfile.write(JPEG)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.served = served
    server.url = f"http://127.0.0.1:{server.server_address[1]}/snapshot.jpg"
    yield server
    server.shutdown()
    server.server_close()


def virtual(name, **kw):
    p = {"name": name, "host": "virtual", "idle_interval_ms": 300}
    p.update(kw)
    return p


def cameras_of(emulator, fp):
    return [c for c in emulator.api("GET", "/api/cameras") if c["printer_fingerprint"] == fp]


def api_json(b, path):
    with urllib.request.urlopen(b.api_url() + path, timeout=10) as r:
        return json.loads(r.read())


def test_http_camera_of_a_virtual_printer(bridges, emulator, webcam):
    b = bridges([])
    write_with_cameras(b, [virtual("mk3")], {"mk3": [
        {"name": "top", "source": "http", "url": webcam.url}]})
    fp = b.provision("mk3")
    b.start()
    assert b.wait_log("camera top (http) is a Connect camera of this printer"), b.stderr()[-2000:]
    cams = wait_for(lambda: [c for c in cameras_of(emulator, fp) if c["snapshot_count"] >= 1])
    assert cams, b.stderr()[-2000:]
    assert cams[0]["last_content_type"] == "image/jpg"
    assert webcam.served["n"] >= 1
    token_file = os.path.join(b.state, "mk3", "camera-top")
    assert os.stat(token_file).st_mode & 0o777 == 0o600
    # The status API shows its newest image.
    assert wait_for(lambda: api_json(b, "api/printer/mk3")["image"] is not None)
    with urllib.request.urlopen(b.api_url() + "api/printer/mk3/image", timeout=10) as r:
        assert r.read() == JPEG
    # A restart keeps the camera's token: no second registration.
    b.stop()
    b.start()
    assert wait_for(lambda: b.stderr().count("is a Connect camera of this printer") == 2)
    assert cameras_of(emulator, fp)[0]["registrations"] == 1


def table(name, entry):
    lines = [f"[[{name}]]"]
    for k, v in entry.items():
        if isinstance(v, bool):
            lines.append(f"{k} = {str(v).lower()}")
        elif isinstance(v, list):
            lines.append(f"{k} = [" + ", ".join('"' + x + '"' for x in v) + "]")
        elif isinstance(v, int):
            lines.append(f"{k} = {v}")
        else:
            lines.append(f'{k} = "{v}"')
    return "\n".join(lines) + "\n\n"


def write_with_cameras(b, printers, cams_by_printer, standalone=()):
    """The config with [[printer.camera]] tables after their printer."""
    b.write([])
    with open(b.config) as f:
        text = f.read()
    for p in printers:
        text += table("printer", p)
        for c in cams_by_printer.get(p["name"], []):
            text += table("printer.camera", c)
    for c in standalone:
        text += table("camera", c)
    with open(b.config, "w") as f:
        f.write(text)


def test_command_camera_and_the_watchdog(bridges, emulator, tmp_path):
    image = tmp_path / "cam.jpg"
    image.write_bytes(JPEG)
    flag = tmp_path / "works"
    script = tmp_path / "snap.sh"
    # Fails (no image) until the flag file exists, as a camera that hangs
    # or lost its stream would.
    script.write_text(f"#!/bin/sh\ntest -f {flag} || exit 3\ncat {image}\n")
    script.chmod(0o755)
    b = bridges([])
    printers = [virtual("mk3")]
    write_with_cameras(b, printers, {"mk3": [
        {"name": "rtsp", "source": "command", "command": [str(script)], "watchdog_s": 3,
         "timeout_s": 2}]})
    fp = b.provision("mk3")
    b.start()
    assert b.wait_log("camera rtsp (command) is a Connect camera of this printer"), \
        b.stderr()[-2000:]
    assert b.wait_log("camera rtsp gave no image for ", timeout=30), b.stderr()[-2000:]
    assert b.wait_log("camera rtsp restarted")
    flag.write_text("")
    assert wait_for(lambda: [c for c in cameras_of(emulator, fp) if c["snapshot_count"] >= 1],
                    timeout=60), b.stderr()[-2000:]
    with urllib.request.urlopen(b.api_url() + "metrics", timeout=10) as r:
        m = r.read().decode()
    assert 'prusaconnect_bridge_camera_restarts_total{printer="mk3",camera="rtsp"}' in m
    line = [x for x in m.splitlines()
            if x.startswith('prusaconnect_bridge_camera_restarts_total{printer="mk3"')][0]
    assert int(line.split()[-1]) >= 1


def test_standalone_camera_with_a_connect_token(bridges, emulator, webcam):
    token = emulator.api("POST", "/api/cameras", {})["token"]
    b = bridges([])
    write_with_cameras(b, [], {}, standalone=[
        {"name": "garage", "source": "http", "url": webcam.url, "token": token,
         "trigger": "ten_sec"}])
    b.start()
    assert b.wait_log("standalone camera garage (http) sends to Prusa Connect"), b.stderr()
    cam = wait_for(lambda: [c for c in emulator.api("GET", "/api/cameras")
                            if c["token"] == token and c["snapshot_count"] >= 1])
    assert cam, b.stderr()[-2000:]
    assert len(cam[0]["fingerprint"]) >= 16
    assert token not in b.stderr()
    stored = os.path.join(b.state, ".cameras", "garage")
    with open(stored) as f:
        assert f.read().strip() == cam[0]["fingerprint"]
    assert os.stat(stored).st_mode & 0o777 == 0o600
    # After a restart it sends with the same fingerprint (Connect bound it).
    b.stop()
    before = cam[0]["snapshot_count"]
    b.start()
    assert wait_for(lambda: [c for c in emulator.api("GET", "/api/cameras")
                             if c["token"] == token and c["snapshot_count"] > before])
    assert not [e for e in emulator.api("GET", "/api/protocol_errors")
                if "Fingerprint does not match" in e.get("message", "")]


def test_standalone_camera_with_a_refused_token(bridges, emulator, webcam):
    b = bridges([virtual("mk3")])
    write_with_cameras(b, [virtual("mk3")], {}, standalone=[
        {"name": "garage", "source": "http", "url": webcam.url,
         "token": "not-a-real-token-000"}])
    fp = b.provision("mk3")
    b.start()
    assert b.wait_log("camera garage: Prusa Connect refused its token; make a new one",
                      timeout=30), b.stderr()[-2000:]
    assert emulator.wait_state(fp, "IDLE")  # the printers are not disturbed


def test_bad_cameras_are_left_out(bridges):
    b = bridges([])
    write_with_cameras(b, [virtual("mk3")], {"mk3": [
        {"name": "a", "source": "rtsp"},
        {"name": "b", "source": "http"},
        {"name": "c", "source": "command"},
        {"name": "d", "source": "http", "url": "http://x/s.jpg", "trigger": "sometimes"}]},
        standalone=[{"name": "e", "source": "file", "path": "/tmp/x.jpg"}])
    r = b.run("status")
    out = r.stdout
    assert 'printer.camera.source: must be http, command, v4l2 or file, not "rtsp"' in out, out
    assert "printer.camera.url: missing: the camera's snapshot URL" in out
    assert "printer.camera.command: missing: the program and its arguments" in out
    assert 'printer.camera.trigger: must be ten_sec' in out
    assert "camera.token: missing (required)" in out
    assert "\nmk3 " in out  # the printer itself is still there
