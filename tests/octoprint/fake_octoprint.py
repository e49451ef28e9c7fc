"""A fake OctoPrint 1.10 for the adapter's tests (Python stdlib only).

It serves the REST API parts the adapter uses (version, login, connection,
printer, job, files, upload, commands) and the push socket
(/sockjs/websocket, RFC 6455) with `connected`, `current` and `event`
messages. The printer is simulated: heaters approach their targets, a job's
progress is set by the test (set_progress) or advances by itself
(advance_per_second), and files live in memory.

Every test controls it directly (same process), e.g.:

    fake = FakeOctoPrint(api_key="KEY").start()
    fake.add_file("prints/benchy.gcode", b"G1 X1\n", estimated=600)
    ...
    fake.restart()          # OctoPrint restarts: the job is lost
    fake.set_connected(False)  # the serial connection drops
    fake.stop()

Run alone (for the benchmark or by hand):
    python3 fake_octoprint.py --port 5000 --api-key KEY [--print FILE]
"""
import base64
import hashlib
import json
import os
import queue
import re
import select
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# What OctoPrint 1.10.3 answers for a missing file or folder: its files API
# calls abort(404) without a text, so the API error handler passes on
# werkzeug's default description (server/__init__.py _handle_api_error).
NOT_FOUND = ("The requested URL was not found on the server. If you entered the URL manually "
             "please check your spelling and try again.")
# A 2x1 PNG: the "slicer thumbnail".
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAYAAAD0In+KAAAAEUlEQVR4nGP4z8DwHwQZYAwAV/EL9Xq/xVcAAAAASUVORK5CYII=")


class FakeOctoPrint:
    def __init__(self, api_key="KEY", port=0, m115="FIRMWARE_NAME:Marlin 2.1.2 (Geeetech A10) "
                 "PROTOCOL_VERSION:1.0 MACHINE_TYPE:A10 EXTRUDER_COUNT:1 "
                 "UUID:cede2a2f-41a2-4748-9b12-c55c62f367ff"):
        self.api_key = api_key
        self.port = port
        self.push_interval = 0.1  # seconds between `current` messages
        self.m115 = m115
        self.lock = threading.RLock()
        self.server = None
        self.thread = None
        self.sockets = []  # live push sockets: queues of messages to send
        self.requests = []  # (method, path) of every request
        # GET /api/files/local/<path> of a path that does not exist: real
        # OctoPrint 1.10.3 logs four ERROR tracebacks for each.
        self.missing_lookups = []
        self.commands = []  # G-code lines received
        self.job_commands = []  # POST /api/job bodies
        self.connection_commands = []  # POST /api/connection bodies
        self.advance_per_second = 0.0
        # Keeps a pause in "Pausing" (a real printer may take seconds).
        self.hold_pausing = False
        self.sessions = set()
        self.reject_auth = False
        # (status, text) that the next select answers, as if the printer had
        # just become busy (a race the adapter cannot see coming).
        self.select_error = None
        # Called once, under the lock, right after the next GET /api/printer
        # or /api/job has been answered and before the answer is sent: the
        # printer changes between two reads of one poll.
        self.after_status_read = None
        self.files = {}  # path -> entry dict ("type": "folder" or "machinecode")
        self.contents = {}  # path -> bytes
        self._reset_printer()
        self._tick_stop = threading.Event()
        self._ticker = None

    # ------------------------------------------------------------ control
    def _reset_printer(self):
        self.connected = True
        self.state = "Operational"
        self.error = ""
        self.temps = {"tool0": [21.3, 0.0], "bed": [21.3, 0.0]}
        self.job_file = None
        self.completion = None
        self.print_time = None
        self.current_z = None
        self.z = 0.0

    def start(self):
        handler = _make_handler(self)
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self._tick_stop.clear()
        self._ticker = threading.Thread(target=self._tick_loop, daemon=True)
        self._ticker.start()
        return self

    def stop(self):
        self._tick_stop.set()
        if self._ticker:
            self._ticker.join()
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        with self.lock:
            for q in self.sockets:
                q.put(None)
            self.sockets = []

    def restart(self):
        """OctoPrint restarts: sockets drop, the job is lost, sessions expire."""
        self.stop()
        with self.lock:
            self._reset_printer()
            self.sessions.clear()
        self.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def set_connected(self, connected):
        with self.lock:
            self.connected = connected
            if not connected:
                was_printing = self.job_active()
                self.state = "Offline"
                self.temps = {"tool0": [None, None], "bed": [None, None]}
                if was_printing:
                    self._end_job("PrintFailed", reason="error")
                self._event("Disconnected", None)
            else:
                self.state = "Operational"
                self.temps = {"tool0": [21.3, 0.0], "bed": [21.3, 0.0]}
                self._event("Connected", {"port": "VIRTUAL", "baudrate": 115200})
            self._state_changed()

    def drop_serial(self, error="SerialException: device reports readiness to read but "
                    "returned no data"):
        """The serial connection breaks: "Offline after error"."""
        with self.lock:
            self.set_connected(False)
            self.state = "Offline after error"
            self.error = error
            self._event("Error", {"error": error, "reason": "connection"})
            self._state_changed()

    def set_progress(self, completion):
        with self.lock:
            self.completion = float(completion)
            self.current_z = round(0.2 + completion / 10.0, 2)
            if completion >= 100:
                self._end_job("PrintDone")

    def job_active(self):
        return self.state in ("Printing", "Paused", "Pausing", "Cancelling")

    def add_file(self, path, data=b"G28\nG1 X10\n", estimated=None, filament=None,
                 thumbnail=False):
        with self.lock:
            parts = path.split("/")
            for i in range(1, len(parts)):
                self._add_folder("/".join(parts[:i]))
            entry = {"name": parts[-1], "display": parts[-1], "path": path,
                     "type": "machinecode", "typePath": ["machinecode", "gcode"],
                     "origin": "local", "size": len(data), "date": 1730700000,
                     "hash": hashlib.sha1(data).hexdigest()}
            if estimated is not None or filament is not None:
                entry["gcodeAnalysis"] = {}
                if estimated is not None:
                    entry["gcodeAnalysis"]["estimatedPrintTime"] = estimated
                if filament is not None:
                    entry["gcodeAnalysis"]["filament"] = {
                        "tool0": {"length": filament, "volume": filament / 400.0}}
            if thumbnail:
                entry["thumbnail"] = ("plugin/prusaslicerthumbnails/thumbnail/"
                                      + path.rsplit(".", 1)[0] + ".png?20241104")
            self.files[path] = entry
            self.contents[path] = data
            self._files_changed("FileAdded", path)

    def _add_folder(self, path):
        if path in self.files:
            return
        self.files[path] = {"name": path.split("/")[-1], "display": path.split("/")[-1],
                            "path": path, "type": "folder", "typePath": ["folder"],
                            "origin": "local", "date": 1730700000}
        self._files_changed("FolderAdded", path)

    def remove(self, path):
        with self.lock:
            for p in [p for p in self.files if p == path or p.startswith(path + "/")]:
                del self.files[p]
                self.contents.pop(p, None)
            self._files_changed("FileRemoved", path)

    # ------------------------------------------------------------ simulation
    def _tick_loop(self):
        last = time.monotonic()
        self._last_push = 0.0
        while not self._tick_stop.wait(0.1):
            now = time.monotonic()
            dt = now - last
            last = now
            with self.lock:
                for name, rate_up in (("tool0", 10.0), ("bed", 2.0)):
                    actual, target = self.temps[name]
                    if actual is None:
                        continue
                    goal = max(target or 0.0, 21.3)
                    step = (rate_up if goal > actual else 2.0) * dt
                    if abs(goal - actual) <= step:
                        actual = goal
                    else:
                        actual += step if goal > actual else -step
                    self.temps[name][0] = round(actual, 2)
                if self.state == "Printing":
                    self.print_time = (self.print_time or 0) + dt
                    if self.advance_per_second:
                        self.completion = min(100.0, (self.completion or 0)
                                              + self.advance_per_second * dt)
                        self.current_z = round(0.2 + self.completion / 10.0, 2)
                        if self.completion >= 100.0:
                            self._end_job("PrintDone")
                if self.state == "Pausing" and not self.hold_pausing:
                    self.state = "Paused"
                    self._event("PrintPaused", self._job_payload())
                    self._state_changed()
                elif self.state == "Cancelling":
                    self._end_job("PrintCancelled")
                current = self.current()
            # Real OctoPrint throttles `current` to every 500 ms; tests use a
            # faster push_interval so that they wait less.
            if now - self._last_push >= self.push_interval - 1e-6:
                self._last_push = now
                self._broadcast({"current": current})

    def _job_payload(self):
        f = self.files.get(self.job_file, {})
        return {"name": f.get("name"), "path": self.job_file, "origin": "local",
                "size": f.get("size"), "owner": "bridge", "user": "bridge"}

    def _end_job(self, event, reason=None):
        payload = self._job_payload()
        if event == "PrintCancelled":
            self._event("PrintCancelled", payload)
            payload = dict(payload, reason="cancelled")
            event = "PrintFailed"
        elif reason:
            payload = dict(payload, reason=reason)
        self._event(event, payload)
        if self.connected:
            self.state = "Operational"
        self.temps["tool0"][1] = 0.0 if self.connected else None
        self.temps["bed"][1] = 0.0 if self.connected else None
        # As OctoPrint 1.10.3 (printer/standard.py): a cancel forgets Z, a
        # finished print keeps its last Z until the next select or start.
        if event == "PrintFailed":
            self.current_z = None
        self._state_changed()

    def _status_read(self):
        hook, self.after_status_read = self.after_status_read, None
        if hook:
            hook()

    def _state_changed(self):
        self._event("PrinterStateChanged", {"state_id": self.state.upper(),
                                            "state_string": self.state})

    def _files_changed(self, event, path):
        self._event(event, {"storage": "local", "path": path, "name": path.split("/")[-1]})
        self._event("UpdatedFiles", {"type": "printables"})

    # ------------------------------------------------------------ views
    def flags(self):
        s = self.state
        return {"operational": self.connected and s != "Error",
                "printing": s in ("Printing", "Pausing", "Cancelling"),
                "pausing": s == "Pausing", "paused": s == "Paused",
                "cancelling": s == "Cancelling", "resuming": False, "finishing": False,
                "error": s in ("Error", "Offline after error"),
                "ready": self.connected and s == "Operational",
                "closedOrError": not self.connected or s == "Error", "sdReady": False}

    def job(self):
        f = self.files.get(self.job_file) if self.job_file else None
        analysis = (f or {}).get("gcodeAnalysis", {})
        active = self.job_active()
        est = analysis.get("estimatedPrintTime")
        left = None
        if active and est is not None and self.completion is not None:
            left = int(est * (100.0 - self.completion) / 100.0)
        return {
            "job": {"file": {"name": f["name"] if f else None, "path": self.job_file,
                             "display": f["name"] if f else None,
                             "origin": "local" if f else None,
                             "size": f["size"] if f else None,
                             "date": f["date"] if f else None},
                    "estimatedPrintTime": est, "averagePrintTime": None,
                    "lastPrintTime": None, "filament": analysis.get("filament"),
                    "user": "bridge"},
            "progress": {"completion": self.completion,
                         "filepos": None,
                         "printTime": int(self.print_time) if self.print_time is not None
                         else None,
                         "printTimeLeft": left, "printTimeLeftOrigin": "estimate"},
            "state": self.state}

    def temperature(self):
        out = {}
        for k, (a, t) in self.temps.items():
            out[k] = {"actual": a, "target": t, "offset": 0}
        return out

    def current(self):
        j = self.job()
        temps = {"time": int(time.time())}
        for k, (a, t) in self.temps.items():
            temps[k] = {"actual": a, "target": t}
        return {"state": {"text": self.state, "flags": self.flags(), "error": self.error},
                "job": j["job"], "progress": j["progress"], "currentZ": self.current_z,
                "offsets": {}, "temps": [temps] if self.connected else [], "logs": [],
                "messages": [], "busyFiles": [], "markings": [], "serverTime": time.time()}

    def file_tree(self, prefix="", recursive=True):
        out = []
        for path, e in sorted(self.files.items()):
            parent = path.rsplit("/", 1)[0] if "/" in path else ""
            if parent != prefix:
                continue
            e = dict(e)
            if e["type"] == "folder":
                e["children"] = self.file_tree(path, recursive) if recursive else []
                e["size"] = sum(c.get("size", 0) for c in e["children"])
            out.append(e)
        return out

    # ------------------------------------------------------------ push socket
    def _event(self, type_, payload):
        self._broadcast({"event": {"type": type_, "payload": payload}})

    def _broadcast(self, message):
        text = json.dumps(message)
        with self.lock:
            for q in self.sockets:
                q.put(text)


def _ws_frame(opcode, payload):
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([n])
    elif n < 65536:
        head += bytes([126]) + struct.pack(">H", n)
    else:
        head += bytes([127]) + struct.pack(">Q", n)
    return head + payload


def _ws_read_frame(sock_file):
    head = sock_file.read(2)
    if len(head) < 2:
        return None, None
    opcode = head[0] & 0x0F
    masked = head[1] & 0x80
    n = head[1] & 0x7F
    if n == 126:
        n = struct.unpack(">H", sock_file.read(2))[0]
    elif n == 127:
        n = struct.unpack(">Q", sock_file.read(8))[0]
    mask = sock_file.read(4) if masked else b"\0\0\0\0"
    data = bytearray(sock_file.read(n))
    for i in range(len(data)):
        data[i] ^= mask[i % 4]
    return opcode, bytes(data)


def _parse_multipart(body, content_type):
    boundary = None
    for part in content_type.split(";"):
        part = part.strip()
        if part.startswith("boundary="):
            boundary = part[len("boundary="):].strip('"')
    if not boundary:
        return {}
    fields = {}
    for chunk in body.split(b"--" + boundary.encode()):
        if chunk in (b"", b"--", b"--\r\n") or chunk.startswith(b"--"):
            continue
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, _, data = chunk.partition(b"\r\n\r\n")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        name = filename = None
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if line.lower().startswith("content-disposition"):
                for item in line.split(";"):
                    item = item.strip()
                    if item.startswith("name="):
                        name = item[5:].strip('"')
                    elif item.startswith("filename="):
                        filename = item[9:].strip('"')
        if name:
            fields[name] = (filename, data)
    return fields


def _make_handler(fake):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _send(self, status, body=None, content_type="application/json"):
            data = b""
            if body is not None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            if status != 204:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data:
                self.wfile.write(data)

        def _error(self, status, text):
            self._send(status, {"error": text})

        def _authorized(self):
            key = self.headers.get("X-Api-Key")
            if key != fake.api_key:
                self._error(403, "Invalid API key")
                return False
            return True

        def _body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def _json(self):
            try:
                return json.loads(self._body() or b"{}")
            except ValueError:
                return None

        def _path(self):
            u = urllib.parse.urlsplit(self.path)
            return urllib.parse.unquote(u.path), urllib.parse.parse_qs(u.query)

        def do_GET(self):
            path, query = self._path()
            with fake.lock:
                fake.requests.append(("GET", path))
            if path == "/sockjs/websocket":
                return self._websocket()
            if path.startswith("/plugin/prusaslicerthumbnails/thumbnail/"):
                return self._send(200, PNG, "image/png")
            if not self._authorized():
                return
            with fake.lock:
                if path == "/api/version":
                    return self._send(200, {"api": "0.1", "server": "1.10.3",
                                            "text": "OctoPrint 1.10.3"})
                if path == "/api/connection":
                    return self._send(200, {"current": {
                        "state": fake.state if fake.connected else "Closed",
                        "port": "VIRTUAL" if fake.connected else None, "baudrate": 115200,
                        "printerProfile": "_default"}, "options": {}})
                if path == "/api/printer":
                    if not fake.connected or fake.state == "Error":
                        return self._error(409, "Printer is not operational")
                    body = {"temperature": fake.temperature(),
                            "state": {"text": fake.state, "error": fake.error,
                                      "flags": fake.flags()}}
                    fake._status_read()
                    return self._send(200, body)
                if path == "/api/job":
                    body = fake.job()
                    fake._status_read()
                    return self._send(200, body)
                if path in ("/api/files", "/api/files/local"):
                    return self._send(200, {"files": fake.file_tree(), "free": 10 ** 9,
                                            "total": 4 * 10 ** 9})
                if path.startswith("/api/files/local/"):
                    p = path[len("/api/files/local/"):]
                    e = fake.files.get(p)
                    if e is None:
                        fake.missing_lookups.append(p)
                        return self._error(404, NOT_FOUND)
                    e = dict(e)
                    if e["type"] == "folder":
                        e["children"] = fake.file_tree(p, "recursive" in query)
                    return self._send(200, e)
            return self._error(404, NOT_FOUND)

        def do_DELETE(self):
            path, _ = self._path()
            with fake.lock:
                fake.requests.append(("DELETE", path))
            if not self._authorized():
                return
            with fake.lock:
                if not path.startswith("/api/files/local/"):
                    return self._error(404, NOT_FOUND)
                p = path[len("/api/files/local/"):]
                if p not in fake.files:
                    return self._error(404, NOT_FOUND)
                if fake.job_active() and fake.job_file and (
                        fake.job_file == p or fake.job_file.startswith(p + "/")):
                    return self._error(409, "Trying to delete a file that is currently in use")
                fake.remove(p)
            return self._send(204)

        def do_POST(self):
            path, _ = self._path()
            with fake.lock:
                fake.requests.append(("POST", path))
            if not self._authorized():
                return
            if path == "/api/files/local" and "multipart" in (self.headers.get("Content-Type") or ""):
                return self._upload()
            body = self._json()
            if body is None:
                return self._error(400, "Malformed JSON body")
            with fake.lock:
                if path == "/api/login":
                    session = "s%d" % (len(fake.sessions) + 1)
                    fake.sessions.add(session)
                    return self._send(200, {"name": "bridge", "session": session,
                                            "active": True, "_login_mechanism": "apikey"})
                if path == "/api/job":
                    return self._job(body)
                if path == "/api/connection":
                    fake.connection_commands.append(body)
                    if body.get("command") == "connect":
                        fake.error = ""
                        fake.set_connected(True)
                    elif body.get("command") == "disconnect":
                        fake.set_connected(False)
                    else:
                        return self._error(400, "Unknown command")
                    return self._send(204)
                if path == "/api/printer/command":
                    if not fake.connected:
                        return self._error(409, "Printer is not operational")
                    lines = body.get("commands") or [body.get("command")]
                    fake.commands.extend(lines)
                    for line in lines:
                        if line.split()[0].upper() == "M115":
                            data = {}
                            keys = list(re.finditer(r"(^|\s+)([A-Z][A-Z0-9_]*):", fake.m115))
                            for i, m in enumerate(keys):
                                end = keys[i + 1].start() if i + 1 < len(keys) else len(fake.m115)
                                data[m.group(2)] = fake.m115[m.end():end].strip()
                            fake._event("FirmwareData", {"name": data.get("FIRMWARE_NAME"),
                                                         "data": data})
                        word = line.split()[0].upper()
                        if word == "G28":
                            fake.z = 0.0
                        elif word in ("G0", "G1"):
                            for part in line.split()[1:]:
                                if part.upper().startswith("Z"):
                                    fake.z = float(part[1:])
                        elif word == "M114":
                            fake._event("PositionUpdate", {"x": 0.0, "y": 0.0, "z": fake.z,
                                                           "e": 0.0, "t": 0, "f": 3000})
                        if line.startswith("M104 S") or line.startswith("M109 S"):
                            fake.temps["tool0"][1] = float(line.split("S")[1].split()[0])
                        if line.startswith("M140 S") or line.startswith("M190 S"):
                            fake.temps["bed"][1] = float(line.split("S")[1].split()[0])
                    return self._send(204)
                if path.startswith("/api/files/local/"):
                    p = path[len("/api/files/local/"):]
                    if body.get("command") != "select":
                        return self._error(400, "Unknown command")
                    if p not in fake.files:
                        return self._error(404, NOT_FOUND)
                    if fake.select_error:
                        status, text = fake.select_error
                        fake.select_error = None
                        return self._error(status, text)
                    if not fake.connected or fake.state != "Operational":
                        return self._error(409, "Printer is not operational or busy")
                    fake.job_file = p
                    fake.current_z = None  # select_file: _setCurrentZ(None)
                    fake._event("FileSelected", {"name": p.split("/")[-1], "path": p,
                                                 "origin": "local"})
                    if body.get("print"):
                        self_start(fake)
                    return self._send(204)
            return self._error(404, NOT_FOUND)

        def _job(self, body):
            if not fake.connected:
                return self._error(409, "Printer is not operational")
            fake.job_commands.append(body)
            cmd = body.get("command")
            if cmd == "start":
                if fake.job_active():
                    return self._error(409, "Printer is already printing")
                if fake.job_file:
                    self_start(fake)
                return self._send(204)
            if cmd == "cancel":
                if not fake.job_active():
                    return self._error(409, "Printer is neither printing nor paused")
                fake.state = "Cancelling"
                fake._state_changed()
                return self._send(204)
            if cmd == "pause":
                action = body.get("action", "toggle")
                if not fake.job_active():
                    return self._error(409, "Printer is neither printing nor paused")
                if action == "pause" or (action == "toggle" and fake.state == "Printing"):
                    if fake.state == "Printing":
                        fake.state = "Pausing"
                        fake._state_changed()
                elif action in ("resume", "toggle"):
                    if fake.state == "Paused":
                        fake.state = "Printing"
                        fake._event("PrintResumed", fake._job_payload())
                        fake._state_changed()
                else:
                    return self._error(400, "Unknown action")
                return self._send(204)
            return self._error(400, "Unknown command")

        def _upload(self):
            fields = _parse_multipart(self._body(), self.headers.get("Content-Type"))
            folder = fields.get("path", (None, b""))[1].decode().strip("/")
            with fake.lock:
                if "foldername" in fields:
                    name = fields["foldername"][1].decode()
                    p = f"{folder}/{name}" if folder else name
                    if p in fake.files:
                        # OctoPrint 1.10.3 answers as created when the name
                        # exists, even as a file (add_folder ignore_existing).
                        return self._send(201, {"folder": {"name": name, "path": p,
                                                           "origin": "local"}, "done": True})
                    if folder and folder not in fake.files:
                        return self._error(404, "Parent folder does not exist")
                    fake._add_folder(p)
                    return self._send(201, {"folder": {"name": name, "path": p,
                                                       "origin": "local"}, "done": True})
                if "file" not in fields:
                    return self._error(400, "No file included")
                filename, data = fields["file"]
                if not filename.lower().endswith((".gcode", ".gco", ".g")):
                    return self._error(415, "Could not upload the file, invalid type")
                p = f"{folder}/{filename}" if folder else filename
                if fake.job_active() and fake.job_file == p:
                    return self._error(409, "Trying to overwrite the file being printed")
                fake.add_file(p, data)
                select = fields.get("select", (None, b""))[1] in (b"true", b"1", b"yes")
                prnt = fields.get("print", (None, b""))[1] in (b"true", b"1", b"yes")
                if (select or prnt) and fake.state == "Operational":
                    fake.job_file = p
                    if prnt:
                        self_start(fake)
                return self._send(201, {"files": {"local": {"name": filename, "path": p,
                                                            "origin": "local"}},
                                        "done": True})

        def _websocket(self):
            key = self.headers.get("Sec-WebSocket-Key", "")
            accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
            self.send_response(101, "Switching Protocols")
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", accept)
            self.end_headers()
            self.wfile.flush()
            q = queue.Queue()
            sock = self.connection
            sock.sendall(_ws_frame(1, json.dumps({"connected": {
                "version": "1.10.3", "display_version": "1.10.3"}}).encode()))
            authed = False
            backlog = []
            with fake.lock:
                fake.sockets.append(q)
            try:
                while True:
                    r, _, _ = select.select([sock], [], [], 0.05)
                    if r:
                        opcode, data = _ws_read_frame(self.rfile)
                        if opcode is None or opcode == 8:
                            return
                        if opcode == 9:
                            sock.sendall(_ws_frame(10, data))
                        elif opcode == 1:
                            msg = json.loads(data)
                            if "auth" in msg:
                                name, _, session = msg["auth"].partition(":")
                                with fake.lock:
                                    ok = session in fake.sessions and not fake.reject_auth
                                if not ok:
                                    sock.sendall(_ws_frame(1, json.dumps(
                                        {"reauthRequired": {"reason": "stale"}}).encode()))
                                    continue
                                authed = True
                                with fake.lock:
                                    cur = fake.current()
                                sock.sendall(_ws_frame(1, json.dumps({"history": cur}).encode()))
                                for m in backlog:
                                    sock.sendall(_ws_frame(1, m.encode()))
                                backlog = []
                    while True:
                        try:
                            m = q.get_nowait()
                        except queue.Empty:
                            break
                        if m is None:
                            return
                        if authed:
                            sock.sendall(_ws_frame(1, m.encode()))
                        elif len(backlog) < 100 and '"current"' not in m[:12]:
                            backlog.append(m)
            except OSError:
                return
            finally:
                with fake.lock:
                    if q in fake.sockets:
                        fake.sockets.remove(q)
                self.close_connection = True

    return Handler


def self_start(fake):
    fake.state = "Printing"
    fake.completion = 0.0
    fake.print_time = 0.0
    fake.current_z = None  # start_print: _setCurrentZ(None); the first move sets it
    fake.temps["tool0"][1] = 215.0
    fake.temps["bed"][1] = 60.0
    fake._event("PrintStarted", fake._job_payload())
    fake._state_changed()


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=5000)
    ap.add_argument("--api-key", default="KEY")
    ap.add_argument("--print", dest="print_file", default=None,
                    help="add this file and print it, advancing --rate %%/s")
    ap.add_argument("--rate", type=float, default=0.05)
    ap.add_argument("--port-file", default=None)
    args = ap.parse_args()
    fake = FakeOctoPrint(api_key=args.api_key, port=args.port).start()
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(fake.port))
        os.rename(args.port_file + ".tmp", args.port_file)
    if args.print_file:
        fake.add_file(args.print_file, b"G28\n" * 1000, estimated=7200, filament=5000.0)
        with fake.lock:
            fake.job_file = args.print_file
            self_start(fake)
        fake.advance_per_second = args.rate
    print(f"fake OctoPrint on {fake.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    fake.stop()


if __name__ == "__main__":
    sys.exit(main())
