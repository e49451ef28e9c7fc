"""The bridge's local status API (docs/status-api.md): every endpoint, auth,
bad input, rate limit, the Server-Sent Events stream and camera images,
against a real bridge process, the Connect emulator and fake hosts."""
import http.client
import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from conftest import fingerprint, wait_for


def virtual(name, **kw):
    p = {"name": name, "host": "virtual", "idle_interval_ms": 300, "printing_interval_ms": 200}
    p.update(kw)
    return p


def get(url, headers=None):
    """(status, headers, body bytes); never raises for an HTTP status."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def get_json(url, headers=None):
    status, _, body = get(url, headers)
    assert status == 200, (status, body)
    return json.loads(body)


def request(url, method):
    req = urllib.request.Request(url, method=method, data=b"" if method != "GET" else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class Events:
    """Reads /api/events on a thread; events() is what arrived so far."""

    def __init__(self, base, headers=None):
        u = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        self.conn.request("GET", "/api/events", headers=headers or {})
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.content_type = self.resp.getheader("Content-Type")
        self.items = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        if self.status == 200:
            self.thread.start()

    def _read(self):
        cur = {}
        try:
            while True:
                line = self.resp.fp.readline()
                if not line:
                    return
                line = line.decode().rstrip("\n")
                if line == "":
                    if "data" in cur:
                        with self.lock:
                            self.items.append((cur.get("event", "message"),
                                               json.loads(cur["data"]), cur.get("id")))
                    cur = {}
                elif not line.startswith(":"):
                    k, _, v = line.partition(": ")
                    cur[k] = v
        except (OSError, ValueError, AttributeError):  # AttributeError: closed
            return

    def events(self):
        with self.lock:
            return list(self.items)

    def close(self):
        self.conn.close()


def test_endpoints_and_registration(bridges, emulator):
    b = bridges([virtual("mk3"), virtual("mini", printer_type="I3MK25S")]).start()
    base = b.api_url()
    assert b.wait_log("status API and dashboard on " + base)
    status, headers, body = get(base + "api/")
    assert status == 200 and body == b"OK\n"
    # Both printers, in config order, waiting for their codes.
    j = wait_for(lambda: (lambda x: x if all(p["registration"]["code"] and
                                             p["temperatures"]["nozzle"] is not None
                                             for p in x["printers"])
                          else None)(get_json(base + "api/printers")))
    assert j, b.stderr()[-2000:]
    assert [p["name"] for p in j["printers"]] == ["mk3", "mini"]
    mk3 = j["printers"][0]
    assert mk3["host"] == "virtual" and mk3["running"] is True
    assert mk3["registration"]["registered"] is False
    code = mk3["registration"]["code"]
    assert mk3["registration"]["url"].endswith("/add-printer/connect/1.3/" + code)
    assert mk3["temperatures"]["nozzle"] is not None
    assert mk3["connect"]["server"] == emulator.url
    # The QR code of the link, as an SVG.
    status, headers, body = get(base + "api/printer/mk3/qr.svg")
    assert status == 200 and headers["Content-Type"] == "image/svg+xml"
    assert body.startswith(b"<svg") and b"<path" in body
    # Approved: registered, no code, no QR.
    emulator.approve(code)
    assert wait_for(lambda: get_json(base + "api/printer/mk3")["registration"]["registered"])
    one = get_json(base + "api/printer/mk3")
    assert one["registration"]["code"] is None
    assert get(base + "api/printer/mk3/qr.svg")[0] == 404
    assert wait_for(lambda: get_json(base + "api/printer/mk3")["stats"]["telemetry_sent"] > 0)
    # The token Connect gave never shows (the file is written just after
    # the library takes the token).
    assert wait_for(lambda: os.path.exists(os.path.join(b.state, "mk3", "token")))
    with open(os.path.join(b.state, "mk3", "token")) as f:
        token = f.read().strip()
    for path in ("api/printers", "api/printer/mk3", "metrics"):
        assert token.encode() not in get(base + path)[2]
    # No camera: no image.
    status, _, body = get(base + "api/printer/mk3/image")
    assert status == 404 and "no camera image" in json.loads(body)["error"]


def test_bad_paths_methods_and_names(bridges):
    b = bridges([virtual("mk3")]).start()
    base = b.api_url()
    for path in ("nope", "api/printer/", "api/printer/mk3/nope", "api/printers/x", "../etc/passwd"):
        status, headers, body = get(base + path)
        assert status == 404, (path, status)
        assert headers["Content-Type"] == "application/json"
        assert json.loads(body)["status"] == 404
    status, _, body = get(base + "api/printer/ghost")
    assert status == 404 and json.loads(body)["error"] == 'no printer named "ghost"'
    for method in ("POST", "PUT", "DELETE"):
        status, headers, body = request(base + "api/printers", method)
        assert status == 405, method
        assert headers["Allow"] == "GET, HEAD"
        assert "read-only" in json.loads(body)["error"]
    # A body larger than the API takes is refused before any handler.
    req = urllib.request.Request(base + "api/printers", data=b"x" * 100000, method="POST")
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("accepted")
    except urllib.error.HTTPError as e:
        assert e.code in (405, 413)
    except (ConnectionError, urllib.error.URLError):
        pass  # the server may close on the oversized body: refused either way
    assert get(base + "api/")[0] == 200  # still serving


def test_metrics(bridges, emulator, moonraker):
    fake = moonraker(api_key="MRKEY")
    b = bridges([virtual("mk3"), {"name": "voron", "host": "moonraker", "url": fake.url,
                                  "api_key": "MRKEY", "idle_interval_ms": 300}])
    fp = b.provision("mk3")
    b.start()
    base = b.api_url()
    assert emulator.wait_state(fp, "IDLE")

    def metrics():
        status, headers, body = get(base + "metrics")
        assert status == 200 and headers["Content-Type"].startswith("text/plain")
        return body.decode()
    assert wait_for(lambda: 'prusaconnect_bridge_printer_up{printer="voron",host="moonraker"} 1'
                    in metrics()), metrics()
    m = metrics()
    assert "# TYPE prusaconnect_bridge_telemetry_sent_total counter" in m
    assert 'prusaconnect_bridge_printer_state{printer="mk3",state="IDLE"} 1' in m
    assert 'prusaconnect_bridge_printer_state{printer="mk3",state="PRINTING"} 0' in m
    assert 'prusaconnect_bridge_printer_registered{printer="mk3"} 1' in m
    assert 'prusaconnect_bridge_printer_registered{printer="voron"} 0' in m
    assert 'prusaconnect_bridge_condition_ok{printer="mk3",condition="API"} 1' in m
    assert 'prusaconnect_bridge_temperature_celsius{printer="mk3",heater="nozzle"}' in m
    assert wait_for(lambda: any(
        line.startswith('prusaconnect_bridge_telemetry_sent_total{printer="mk3"}') and
        int(line.split()[-1]) > 0 for line in metrics().splitlines()))
    assert "prusaconnect_bridge_api_requests_total" in m
    assert "MRKEY" not in m
    assert "MRKEY" not in get(base + "api/printers")[2].decode()


def test_bearer_token(bridges):
    secret = "s3cret-token-for-tests-0123456789"
    b = bridges([virtual("mk3")], extra_bridge=f'api_token = "{secret}"').start()
    base = b.api_url()
    assert b.wait_log("(bearer token required)")
    status, headers, body = get(base + "api/printers")
    assert status == 401 and "required" in json.loads(body)["error"]
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert get(base + "api/printers", {"Authorization": "Bearer wrong"})[0] == 401
    assert get(base + "api/printers", {"Authorization": "Bearer " + secret})[0] == 200
    assert get(base + "?access_token=" + secret)[0] == 200  # the page
    assert get(base)[0] == 401
    assert secret not in b.stderr()
    ev = Events(base)
    assert ev.status == 401
    ev.close()
    ev = Events(base, {"Authorization": "Bearer " + secret})
    assert ev.status == 200 and ev.content_type == "text/event-stream"
    ev.close()


def test_off_loopback_needs_a_token(tmp_path, bridges):
    b = bridges([virtual("mk3")], extra_bridge='api_listen = "0.0.0.0:8421"')
    r = b.run("--check")
    assert r.returncode == 2, r.stderr
    assert "bridge.api_token: the status API on 0.0.0.0:8421 is reachable from other " \
           "machines: set api_token" in r.stderr
    b2 = bridges([virtual("mk3")], extra_bridge='api_listen = "localhost:99999"')
    r = b2.run("--check")
    assert r.returncode == 2 and "bridge.api_listen: must be HOST:PORT" in r.stderr, r.stderr


def test_port_taken_keeps_the_printers_running(bridges, emulator):
    first = bridges([virtual("a")]).start()
    port = urllib.parse.urlsplit(first.api_url()).port
    b = bridges([virtual("b")], extra_bridge=f'api_listen = "127.0.0.1:{port}"')
    fp = b.provision("b")
    b.start()
    assert b.wait_log(f"no status API: cannot listen on 127.0.0.1:{port}")
    assert emulator.wait_state(fp, "IDLE")


def test_rate_limit(bridges):
    b = bridges([virtual("mk3")], extra_bridge="api_rate_limit = 5").start()
    base = b.api_url()
    codes = [get(base + "api/")[0] for _ in range(40)]
    assert codes[:10] == [200] * 10  # the burst: twice the rate
    assert 429 in codes
    status, headers, body = get(base + "api/")
    if status == 429:
        assert headers["Retry-After"] == "1"
        assert "too many requests" in json.loads(body)["error"]
    time.sleep(1.1)
    assert get(base + "api/")[0] == 200  # refilled


def test_event_stream_follows_a_print(bridges, emulator):
    b = bridges([virtual("mk3", job_seconds=2), virtual("other")])
    fp = b.provision("mk3")
    b.start()
    base = b.api_url()
    assert emulator.wait_state(fp, "IDLE")
    ev = Events(base)
    assert ev.status == 200 and ev.content_type == "text/event-stream"
    cid = emulator.queue(fp, "START_PRINT", {"path": "/local/benchy.gcode"})
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"

    def kinds():
        return [(t, d["event"] if t == "job" else d["state"] if t == "state" else d["progress"])
                for t, d, _ in ev.events() if d["printer"] == "mk3"]
    assert wait_for(lambda: ("state", "FINISHED") in kinds()), (kinds(), b.stderr()[-2000:])
    k = kinds()
    assert k.index(("state", "PRINTING")) < k.index(("job", "started")) < \
        k.index(("state", "FINISHED")) < k.index(("job", "ended"))
    ended = [d for t, d, _ in ev.events() if t == "job" and d["event"] == "ended"][0]
    assert ended["state"] == "FINISHED" and ended["file"] == "benchy.gcode"
    progress = [d["progress"] for t, d, _ in ev.events() if t == "progress"]
    assert progress and progress == sorted(progress)
    started = [d for t, d, _ in ev.events() if t == "job" and d["event"] == "started"][0]
    assert started["file"] == "benchy.gcode" and started["job_id"] >= 1
    ids = [int(i) for _, _, i in ev.events()]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    ev.close()
    # Resuming with Last-Event-ID replays what came after it.
    ev2 = Events(base, {"Last-Event-ID": str(ids[0])})
    assert wait_for(lambda: len(ev2.events()) >= len(ids) - 1)
    assert [int(i) for _, _, i in ev2.events()][:len(ids) - 1] == ids[1:]
    ev2.close()


def test_too_many_streams(bridges):
    b = bridges([virtual("mk3")]).start()
    base = b.api_url()
    streams = [Events(base) for _ in range(4)]
    assert all(s.status == 200 for s in streams)
    extra = Events(base)
    assert extra.status == 503
    for s in streams + [extra]:
        s.close()
    # Closed streams free their places (noticed at the next write).
    assert wait_for(lambda: Events(base).status == 200, timeout=30)


def test_camera_image(bridges, emulator, moonraker):
    fake = moonraker(api_key="MRKEY")
    fake.add_webcam("nozzle cam")
    b = bridges([{"name": "voron", "host": "moonraker", "url": fake.url, "api_key": "MRKEY",
                  "idle_interval_ms": 300}])
    fp = b.provision("voron")
    b.start()
    base = b.api_url()
    assert emulator.wait_state(fp, "IDLE")
    assert wait_for(lambda: get_json(base + "api/printer/voron")["image"] is not None), \
        b.stderr()[-2000:]
    status, headers, body = get(base + "api/printer/voron/image")
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    assert body[:2] == b"\xff\xd8"
    assert headers["Cache-Control"] == "no-cache"
    assert headers["Last-Modified"].endswith(" GMT")
    img = get_json(base + "api/printer/voron")["image"]
    assert img["url"] == "/api/printer/voron/image" and img["camera"].startswith("moonraker-")


def test_events_for_a_removed_printer_stop_and_api_lists_the_new_config(bridges, emulator):
    b = bridges([virtual("a"), virtual("b")]).start()
    base = b.api_url()
    assert wait_for(lambda: len(get_json(base + "api/printers")["printers"]) == 2)
    b.write([virtual("b"), virtual("c")])
    b.reload()
    assert wait_for(lambda: [p["name"] for p in get_json(base + "api/printers")["printers"]]
                    == ["b", "c"]), b.stderr()[-2000:]
    assert get(base + "api/printer/a")[0] == 404


def test_status_command_shows_the_dashboard(bridges):
    b = bridges([virtual("mk3")]).start()
    base = b.api_url()
    r = b.run("status")
    assert r.returncode == 0, r.stderr
    assert "dashboard: " + base in r.stdout


def test_other_host_names_are_refused_without_a_token(bridges):
    # DNS rebinding: a web page whose name now points at 127.0.0.1 must not
    # read the printers (their registration codes) from the browser.
    b = bridges([virtual("mk3")]).start()
    base = b.api_url()
    port = urllib.parse.urlsplit(base).port
    status, _, body = get(base + "api/printers", {"Host": f"evil.example:{port}"})
    assert status == 403 and "is not served" in json.loads(body)["error"]
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", "127.0.0.1"):
        assert get(base + "api/printers", {"Host": host})[0] == 200, host


def test_an_event_id_from_before_a_restart_gets_a_reset(bridges):
    b = bridges([virtual("mk3")]).start()
    ev = Events(b.api_url(), {"Last-Event-ID": "999999"})
    assert ev.status == 200
    assert wait_for(lambda: ev.events() and ev.events()[0][0] == "reset")
    ev.close()


def test_supported_commands_are_declared_checked_and_reach_connect(bridges, emulator):
    b = bridges([virtual("mk3")]).start()
    base = b.api_url()
    code = wait_for(lambda: get_json(base + "api/printer/mk3")["registration"]["code"])
    emulator.approve(code)
    assert b.wait_log("[mk3] registered: the token is stored")
    one = get_json(base + "api/printer/mk3")
    declared = {c["command"]: c for c in one["supported_commands"]}
    # What the virtual printer's driver answers, and nothing it does not.
    assert {"START_PRINT", "PAUSE_PRINT", "RESUME_PRINT", "STOP_PRINT", "SEND_INFO"} <= set(declared)
    assert "UPGRADE" not in declared
    assert declared["PAUSE_PRINT"]["executable_from_state"] == ["PRINTING"]
    assert declared["START_PRINT"]["args"][0]["name"] == "path"
    # Connect learns them from the printer's INFO.
    sn = open(os.path.join(b.state, "mk3", "identity")).read().split("\n")[0][7:]
    fp = fingerprint(sn)
    assert emulator.wait_result(fp, emulator.queue(fp, "SEND_INFO"))["event"] == "INFO"
    info = emulator.events(fp, "INFO")[-1]["body"]["data"]
    assert [c["command"] for c in info["supported_commands"]] == [
        c["command"] for c in one["supported_commands"]]
    token = emulator.api("GET", "/api/user-token")["token"]
    uuid = next(p["uuid"] for p in json.loads(get(
        emulator.url + "/app/printers", headers={"Authorization": "Bearer " + token})[2])["printers"]
        if p["sn"] == sn)
    listed = json.loads(get(emulator.url + f"/app/printers/{uuid}/supported-commands",
                            headers={"Authorization": "Bearer " + token})[2])
    assert listed["commands"] == one["supported_commands"]
    # And the printer checks them: a wrong type is refused before the driver.
    r = emulator.wait_result(fp, emulator.queue(fp, "START_PRINT", {"path": 42}))
    assert r["event"] == "REJECTED"
    assert r["body"]["reason"] == "START_PRINT: argument 'path' must be a string, not an integer (42)"
