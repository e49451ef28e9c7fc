"""A fake Moonraker (v0.10, API 1.5) for the bridge's tests, on tornado.

It speaks the subset the bridge's Moonraker driver uses, with Moonraker's
message shapes (docs/external_api, ../shared/reference/moonraker-api.md):
the JSON-RPC WebSocket /websocket (server.connection.identify, server.info,
printer.info, printer.objects.list / subscribe, printer.print.*,
printer.gcode.script, printer.firmware_restart, server.files.*,
server.webcams.list) with notify_status_update deltas (only the fields that
changed, [delta, eventtime]), notify_klippy_ready / _shutdown /
_disconnected and notify_filelist_changed; REST for /server/info,
/machine/system_info, file downloads and the multipart upload. Errors are
{"code", "message"} with Moonraker's codes (400 Klipper refused, 403 file
in use, -32601 not found, -32602 unauthorized, 503 Klippy down).

Many fakes share one IOLoop thread (MoonrakerHub), so a benchmark can serve
hundreds of printers from one process. Tests drive a fake directly:

    fake = FakeMoonraker(api_key="KEY").start()
    fake.add_file("benchy.gcode", b"G1 X1\\n" * 100, estimated_time=600)
    fake.shutdown("MCU 'mcu' shutdown: Timer too close")   # Klipper e-stop
    fake.drop_sockets()       # every WebSocket closes
    fake.stop(); fake.start() # Moonraker restarts (same port)
"""
import asyncio
import json
import os
import posixpath
import threading
import time

import tornado.escape
import tornado.httpserver
import tornado.ioloop
import tornado.netutil
import tornado.web
import tornado.websocket

TICK_S = 0.25
# A minimal JPEG (SOI, APP0, EOI): what a webcam's snapshot URL answers.
JPEG = b"\xff\xd8\xff\xe0" + bytes(64) + b"\xff\xd9"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000010806000000f4227f8a"
    "0000001149444154789c63f8cfc0f01f0419600c0057f10bf57abfc5570000000049454e44ae426082")


class MoonrakerHub:
    """One thread running one tornado IOLoop for any number of fakes."""
    _default = None

    def __init__(self):
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(10)

    @classmethod
    def default(cls):
        if cls._default is None:
            cls._default = MoonrakerHub()
        return cls._default

    def _run(self):
        asyncio.set_event_loop(asyncio.new_event_loop())
        self.loop = tornado.ioloop.IOLoop.current()
        self.ready.set()
        self.loop.start()

    def call(self, fn, *args):
        """Runs fn on the loop and returns its result."""
        done = threading.Event()
        box = {}

        def run():
            try:
                box["v"] = fn(*args)
            except Exception as e:  # noqa: BLE001 - handed to the caller
                box["e"] = e
            done.set()
        self.loop.add_callback(run)
        if not done.wait(10):
            raise TimeoutError("the fake Moonraker's loop is stuck")
        if "e" in box:
            raise box["e"]
        return box["v"]


class RpcError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def initial_status():
    return {
        "webhooks": {"state": "ready", "state_message": "Printer is ready"},
        "print_stats": {"filename": "", "total_duration": 0.0, "print_duration": 0.0,
                        "filament_used": 0.0, "state": "standby", "message": "",
                        "info": {"total_layer": None, "current_layer": None}},
        "virtual_sdcard": {"file_path": None, "progress": 0.0, "is_active": False,
                           "file_position": 0, "file_size": 0},
        "display_status": {"progress": 0.0, "message": None},
        "extruder": {"temperature": 24.3, "target": 0.0, "power": 0.0, "can_extrude": False,
                     "pressure_advance": 0.04},
        "heater_bed": {"temperature": 23.9, "target": 0.0, "power": 0.0},
        "toolhead": {"position": [0.0, 0.0, 0.0, 0.0], "homed_axes": "", "extruder": "extruder",
                     "axis_minimum": [0, 0, -2, 0], "axis_maximum": [235, 235, 250, 0],
                     "max_velocity": 300.0, "max_accel": 3000.0},
        "gcode_move": {"speed_factor": 1.0, "extrude_factor": 1.0,
                       "gcode_position": [0.0, 0.0, 0.0, 0.0],
                       "homing_origin": [0.0, 0.0, 0.0, 0.0]},
        "fan": {"speed": 0.0, "rpm": None},
        "idle_timeout": {"state": "Idle", "printing_time": 0.0},
    }


class FakeMoonraker:
    def __init__(self, api_key=None, port=0, hub=None, serial="10000000a1b2c3d4",
                 advance_per_second=0.0):
        self.hub = hub or MoonrakerHub.default()
        self.api_key = api_key
        self.port = port
        self.serial = serial
        self.advance_per_second = advance_per_second
        self.klippy_state = "ready"
        self.state_message = "Printer is ready"
        self.status = initial_status()
        self.files = {}  # path under gcodes -> (bytes, modified, metadata)
        self.dirs = set()
        self.sockets = []
        self.calls = []  # (method, params) of every JSON-RPC call
        self.scripts = []  # G-code scripts run
        self.uploads = []  # paths uploaded
        self.refuse_uploads = None  # (status, message) to answer uploads with
        self.webcams = []  # server.webcams.list entries
        self.snapshots_served = 0
        self.server = None
        self.ticker = None
        self.eventtime = 1000.0

    # ---- life ----
    def start(self):
        self.hub.call(self._start)
        return self

    def _start(self):
        app = tornado.web.Application([
            (r"/websocket", _Socket, {"fake": self}),
            (r"/server/info", _Rest, {"fake": self, "what": "server.info"}),
            (r"/printer/info", _Rest, {"fake": self, "what": "printer.info"}),
            (r"/machine/system_info", _Rest, {"fake": self, "what": "machine.system_info"}),
            (r"/server/files/upload", _Upload, {"fake": self}),
            (r"/server/files/gcodes/(.*)", _Download, {"fake": self}),
            (r"/webcam/snapshot", _Snapshot, {"fake": self}),
        ], websocket_ping_interval=0)
        self.server = tornado.httpserver.HTTPServer(app, max_body_size=1 << 30)
        sockets = tornado.netutil.bind_sockets(self.port, address="127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        self.server.add_sockets(sockets)
        # Klipper sends subscribed changes every 250 ms
        # (webhooks.py SUBSCRIPTION_REFRESH_TIME); so does the fake.
        self.ticker = tornado.ioloop.PeriodicCallback(self._tick, TICK_S * 1000)
        self.ticker.start()

    def stop(self):
        """Moonraker goes away: the port closes, every socket drops."""
        self.hub.call(self._stop)

    def _stop(self):
        if self.ticker:
            self.ticker.stop()
        if self.server:
            self.server.stop()
            self.server = None
        for s in list(self.sockets):
            s.close()
        self.sockets = []

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    # ---- controls for tests ----
    def add_file(self, path, data=b"G28\nG1 X10\n", estimated_time=None, thumbnail=True):
        def add():
            meta = {"size": len(data), "modified": time.time(), "filename": path,
                    "slicer": "PrusaSlicer", "slicer_version": "2.7.1",
                    "filament_total": 1234.5, "filament_type": "PLA", "layer_height": 0.2,
                    "nozzle_diameter": 0.4, "first_layer_extr_temp": 215,
                    "first_layer_bed_temp": 60}
            if estimated_time is not None:
                meta["estimated_time"] = estimated_time
            if thumbnail:
                stem = posixpath.splitext(posixpath.basename(path))[0]
                rel = f".thumbs/{stem}-2x1.png"
                meta["thumbnails"] = [{"width": 2, "height": 1, "size": len(PNG),
                                       "relative_path": rel}]
                folder = posixpath.dirname(path)
                self.files[posixpath.join(folder, rel)] = (PNG, time.time(), None)
            self.files[path] = (data, time.time(), meta)
            parent = posixpath.dirname(path)
            while parent:
                self.dirs.add(parent)
                parent = posixpath.dirname(parent)
            self._filelist("create_file", path)
        self.hub.call(add)

    def add_webcam(self, name, snapshot_url=None, enabled=True):
        """A webcam as Moonraker's database lists it; by default its snapshot
        URL is this fake's /webcam/snapshot (absolute: a real one is often
        relative to the host's port 80)."""
        def add():
            self.webcams.append({
                "name": name, "location": "printer", "service": "mjpegstreamer",
                "enabled": enabled, "icon": "mdiWebcam", "target_fps": 15,
                "target_fps_idle": 5, "stream_url": "/webcam/?action=stream",
                "snapshot_url": snapshot_url or f"{self.url}/webcam/snapshot",
                "flip_horizontal": False, "flip_vertical": False, "rotation": 0,
                "aspect_ratio": "4:3", "extra_data": {}, "source": "database",
                "uid": f"341778f9-387f-455b-8b69-{len(self.webcams):012x}"})
            self._notify("notify_webcams_changed", [{"webcams": self.webcams}])
        self.hub.call(add)

    def shutdown(self, message):
        """Klipper shuts down (an MCU error, M112): a print in progress ends."""
        def do():
            self.klippy_state = "shutdown"
            self.state_message = message
            changes = {"webhooks": {"state": "shutdown", "state_message": message}}
            if self.status["print_stats"]["state"] in ("printing", "paused"):
                changes["print_stats"] = {"state": "error", "message": message}
            self._change(changes)
            self._notify("notify_klippy_shutdown")
        self.hub.call(do)

    def klippy_restart(self, down_seconds=0.5):
        """Klippy restarts: disconnected, then ready with fresh objects."""
        self.hub.call(self._klippy_restart, down_seconds)

    def _klippy_restart(self, down_seconds):
        self.klippy_state = "disconnected"
        self.state_message = "Klippy Disconnected"
        for s in self.sockets:
            s.subscription = None
        self._notify("notify_klippy_disconnected")

        def ready():
            self.klippy_state = "ready"
            self.state_message = "Printer is ready"
            self.status = initial_status()
            self._notify("notify_klippy_ready")
        self.hub.loop.call_later(down_seconds, ready)

    def drop_sockets(self):
        self.hub.call(lambda: [s.close() for s in list(self.sockets)])

    def set_temperatures(self, nozzle, bed):
        self.hub.call(self._change, {"extruder": {"temperature": nozzle},
                                     "heater_bed": {"temperature": bed}})

    def set_progress(self, fraction):
        def do():
            ps = self.status["print_stats"]
            size = self.status["virtual_sdcard"]["file_size"]
            self._change({"virtual_sdcard": {"progress": fraction,
                                             "file_position": int(size * fraction)},
                          "display_status": {"progress": fraction},
                          "print_stats": {"print_duration": ps["print_duration"] + 1.0}})
        self.hub.call(do)

    def set_layer(self, current, total):
        """SET_PRINT_STATS_INFO CURRENT_LAYER=… TOTAL_LAYER=…: Klipper sends
        print_stats.info whole when one of its keys changes."""
        self.hub.call(self._change, {"print_stats": {"info": {"total_layer": total,
                                                              "current_layer": current}}})

    def finish(self):
        self.hub.call(lambda: self._end("complete"))

    def snapshot(self):
        return self.hub.call(lambda: json.loads(json.dumps(self.status)))

    def socket_count(self):
        return self.hub.call(lambda: len(self.sockets))

    # ---- internals (loop thread) ----
    def _notify(self, method, params=None):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        text = json.dumps(msg)
        for s in list(self.sockets):
            s.send(text)

    def _change(self, changes):
        """Applies changes and sends each subscriber the fields it follows."""
        self.eventtime += 0.25
        for obj, fields in changes.items():
            self.status.setdefault(obj, {}).update(fields)
        for s in list(self.sockets):
            if not s.subscription:
                continue
            delta = {o: f for o, f in changes.items() if o in s.subscription}
            if delta:
                s.send(json.dumps({"jsonrpc": "2.0", "method": "notify_status_update",
                                   "params": [delta, self.eventtime]}))

    def _filelist(self, action, path, root="gcodes"):
        entry = self.files.get(path)
        item = {"root": root, "path": path, "modified": time.time(),
                "size": len(entry[0]) if entry else 0, "permissions": "rw"}
        self._notify("notify_filelist_changed", [{"action": action, "item": item}])

    def _tick(self):
        ps = self.status["print_stats"]
        if ps["state"] != "printing":
            return
        changes = {"print_stats": {"print_duration": ps["print_duration"] + TICK_S,
                                   "total_duration": ps["total_duration"] + TICK_S,
                                   "filament_used": ps["filament_used"] + 5 * TICK_S}}
        if self.advance_per_second > 0:
            p = min(1.0, self.status["virtual_sdcard"]["progress"] +
                    self.advance_per_second * TICK_S)
            changes["virtual_sdcard"] = {"progress": p}
            changes["display_status"] = {"progress": p}
            if p >= 1.0:
                self._change(changes)
                self._end("complete")
                return
        self._change(changes)

    def _end(self, state):
        ps = self.status["print_stats"]
        self._notify("notify_history_changed", [{"action": "finished", "job": {
            "job_id": f"{int(self.eventtime * 4):06X}", "filename": ps["filename"],
            "status": {"complete": "completed"}.get(state, state),
            "start_time": time.time() - ps["total_duration"], "end_time": time.time(),
            "print_duration": ps["print_duration"], "total_duration": ps["total_duration"],
            "filament_used": ps["filament_used"], "metadata": {}, "exists": True}}])
        self._change({"print_stats": {"state": state},
                      "virtual_sdcard": {"is_active": False},
                      "extruder": {"target": 0.0}, "heater_bed": {"target": 0.0},
                      "idle_timeout": {"state": "Idle"}})

    def _require_klippy(self):
        if self.klippy_state != "ready":
            raise RpcError(503, "Klippy Host not connected" if self.klippy_state ==
                           "disconnected" else f"Klippy is {self.klippy_state}")

    def rpc(self, sock, method, params):
        """One JSON-RPC call; returns the result or raises RpcError."""
        self.calls.append((method, params))
        if method == "server.connection.identify":
            if self.api_key and not sock.authorized:
                if params.get("api_key") != self.api_key:
                    raise RpcError(-32602, "Unauthorized")
                sock.authorized = True
            return {"connection_id": id(sock) & 0xFFFFFFFF}
        if self.api_key and not sock.authorized:
            raise RpcError(-32602, "Unauthorized")
        if method == "server.info":
            return self.server_info()
        if method == "printer.info":
            self._require_klippy_connected()
            return {"state": self.klippy_state, "state_message": self.state_message,
                    "hostname": "fake", "software_version": "v0.12.0-fake"}
        if method == "printer.objects.list":
            self._require_klippy()
            return {"objects": list(self.status.keys()) + ["heater_generic chamber"]}
        if method == "printer.objects.subscribe":
            self._require_klippy()
            wanted = params.get("objects", {})
            sock.subscription = set(o for o in wanted if o in self.status)
            return {"eventtime": self.eventtime,
                    "status": {o: dict(self.status[o]) for o in sock.subscription}}
        if method == "printer.print.start":
            self._require_klippy()
            name = params.get("filename", "").lstrip("/")
            if self.status["print_stats"]["state"] == "printing":
                raise RpcError(400, "SD busy")
            if name not in self.files:
                raise RpcError(400, f"Unable to open file \"{name}\"")
            data = self.files[name][0]
            self._change({"print_stats": {"state": "printing", "filename": name,
                                          "print_duration": 0.0, "total_duration": 0.0,
                                          "filament_used": 0.0, "message": ""},
                          "virtual_sdcard": {"progress": 0.0, "is_active": True,
                                             "file_size": len(data), "file_position": 0,
                                             "file_path": "/home/pi/printer_data/gcodes/" + name},
                          "display_status": {"progress": 0.0},
                          "extruder": {"target": 215.0}, "heater_bed": {"target": 60.0},
                          "idle_timeout": {"state": "Printing"}})
            return "ok"
        if method == "printer.print.pause":
            self._require_klippy()
            if self.status["print_stats"]["state"] == "printing":
                self._change({"print_stats": {"state": "paused"}})
            return "ok"
        if method == "printer.print.resume":
            self._require_klippy()
            if self.status["print_stats"]["state"] == "paused":
                self._change({"print_stats": {"state": "printing"}})
            return "ok"
        if method == "printer.print.cancel":
            self._require_klippy()
            if self.status["print_stats"]["state"] in ("printing", "paused"):
                self._end("cancelled")
            return "ok"
        if method == "printer.gcode.script":
            self._require_klippy()
            script = params.get("script", "")
            self.scripts.append(script)
            for line in script.split("\n"):
                word = line.strip().split(" ")[0].upper()
                if not word:
                    continue
                if word == "G28":
                    self._change({"toolhead": {"homed_axes": "xyz"}})
                elif word in ("G0", "G1") and self.status["toolhead"]["homed_axes"] != "xyz":
                    # Klipper's respond_error: "!! ..." on the console, and the
                    # script call fails with the text (400).
                    msg = "Must home axis first: 10.000 0.000 0.000 [0.000]"
                    self._notify("notify_gcode_response", ["!! " + msg])
                    raise RpcError(400, msg)
                elif word not in ("G0", "G1", "M104", "M140", "M106", "M107", "M117", "M115",
                                  "G90", "G91", "M112"):
                    # gcode.py cmd_default: only respond_info; the call succeeds.
                    self._notify("notify_gcode_response", [f"// Unknown command:\"{word}\""])
            return "ok"
        if method == "printer.firmware_restart":
            self._require_klippy_connected()
            self._klippy_restart(0.3)
            return "ok"
        if method == "server.files.get_directory":
            return self.get_directory(params.get("path", "gcodes"))
        if method == "server.files.metadata":
            name = params.get("filename", "")
            entry = self.files.get(name)
            if not entry or entry[2] is None:
                raise RpcError(-32601, f"Metadata not available for <{name}>")
            return entry[2]
        if method == "server.files.post_directory":
            path = params.get("path", "")
            rel = self._rel(path)
            if rel in self.dirs:
                raise RpcError(400, f"Directory already exists: {path}")
            if posixpath.dirname(rel) and posixpath.dirname(rel) not in self.dirs:
                raise RpcError(400, f"Parent directory does not exist: {path}")
            self.dirs.add(rel)
            self._notify("notify_filelist_changed", [{"action": "create_dir", "item": {
                "root": "gcodes", "path": rel, "modified": time.time(), "size": 4096,
                "permissions": "rw"}}])
            return {"item": {"path": rel, "root": "gcodes", "modified": time.time(),
                             "size": 4096, "permissions": "rw"}, "action": "create_dir"}
        if method == "server.files.delete_file":
            rel = self._rel(params.get("path", ""))
            if rel not in self.files:
                raise RpcError(-32601, f"File {params.get('path')} does not exist")
            ps = self.status["print_stats"]
            if ps["state"] in ("printing", "paused") and ps["filename"] == rel:
                raise RpcError(403, "File currently in use")
            del self.files[rel]
            self._notify("notify_filelist_changed", [{"action": "delete_file", "item": {
                "root": "gcodes", "path": rel, "size": 0, "modified": 0, "permissions": ""}}])
            return {"item": {"path": rel, "root": "gcodes"}, "action": "delete_file"}
        if method == "server.files.delete_directory":
            rel = self._rel(params.get("path", ""))
            if rel not in self.dirs:
                raise RpcError(400, f"Directory does not exist ({params.get('path')})")
            inside = [p for p in list(self.files) + list(self.dirs)
                      if p.startswith(rel + "/")]
            if inside and not params.get("force"):
                raise RpcError(400, f"Directory contains files: {params.get('path')}")
            for p in inside:
                self.files.pop(p, None)
                self.dirs.discard(p)
            self.dirs.discard(rel)
            return {"item": {"path": rel, "root": "gcodes"}, "action": "delete_dir"}
        if method == "server.webcams.list":
            return {"webcams": self.webcams}
        raise RpcError(-32601, f"Method not found: {method}")

    def _require_klippy_connected(self):
        if self.klippy_state == "disconnected":
            raise RpcError(503, "Klippy Host not connected")

    @staticmethod
    def _rel(path):
        return path[len("gcodes/"):] if path.startswith("gcodes/") else path

    def server_info(self):
        return {"klippy_connected": self.klippy_state != "disconnected",
                "klippy_state": self.klippy_state,
                "components": ["file_manager", "history", "webcam"], "failed_components": [],
                "registered_directories": ["config", "gcodes", "logs"], "warnings": [],
                "websocket_count": len(self.sockets), "moonraker_version": "v0.10.0-fake",
                "api_version": [1, 5, 0], "api_version_string": "1.5.0"}

    def get_directory(self, path):
        rel = self._rel(path) if path != "gcodes" else ""
        if rel and rel not in self.dirs:
            raise RpcError(-32601, f"Directory does not exist ({path})")
        prefix = rel + "/" if rel else ""
        dirs, files = [], []
        for d in sorted(self.dirs | {p for p in map(posixpath.dirname, self.files) if p}):
            if d.startswith(prefix) and "/" not in d[len(prefix):] and d != rel:
                dirs.append({"dirname": d[len(prefix):], "modified": time.time(), "size": 4096,
                             "permissions": "rw"})
        for f, (data, modified, _) in sorted(self.files.items()):
            if f.startswith(prefix) and "/" not in f[len(prefix):]:
                files.append({"filename": f[len(prefix):], "modified": modified,
                              "size": len(data), "permissions": "rw"})
        return {"dirs": dirs, "files": files,
                "disk_usage": {"total": 30 << 30, "used": 10 << 30, "free": 20 << 30},
                "root_info": {"name": "gcodes", "permissions": "rw"}}

    def authorized(self, handler):
        return not self.api_key or handler.request.headers.get("X-Api-Key") == self.api_key


class _Socket(tornado.websocket.WebSocketHandler):
    def initialize(self, fake):
        self.fake = fake
        self.subscription = None
        self.authorized = False

    def check_origin(self, origin):
        return True

    def open(self):
        self.authorized = self.fake.authorized(self)
        self.fake.sockets.append(self)

    def on_close(self):
        if self in self.fake.sockets:
            self.fake.sockets.remove(self)

    def send(self, text):
        try:
            self.write_message(text)
        except tornado.websocket.WebSocketClosedError:
            pass

    def on_message(self, message):
        try:
            req = json.loads(message)
        except ValueError:
            self.send(json.dumps({"jsonrpc": "2.0", "error": {"code": -32700,
                                                              "message": "Parse error"},
                                  "id": None}))
            return
        rid = req.get("id")
        try:
            result = self.fake.rpc(self, req.get("method", ""), req.get("params") or {})
            self.send(json.dumps({"jsonrpc": "2.0", "result": result, "id": rid}))
        except RpcError as e:
            self.send(json.dumps({"jsonrpc": "2.0", "error": {"code": e.code,
                                                              "message": e.message},
                                  "id": rid}))


class _Rest(tornado.web.RequestHandler):
    def initialize(self, fake, what):
        self.fake = fake
        self.what = what

    def get(self):
        if not self.fake.authorized(self):
            self.set_status(401)
            self.finish({"error": {"code": 401, "message": "Unauthorized"}})
            return
        if self.what == "machine.system_info":
            self.finish({"result": {"system_info": {
                "cpu_info": {"cpu_count": 4, "bits": "64bit", "processor": "aarch64",
                             "cpu_desc": "", "serial_number": self.fake.serial,
                             "hardware_desc": "", "model": "Raspberry Pi 4 Model B Rev 1.4",
                             "total_memory": 3930860, "memory_units": "kB"},
                "network": {"wlan0": {"mac_address": "dc:a6:32:00:00:01",
                                      "ip_addresses": []}}}}})
            return
        try:
            sock = type("S", (), {"authorized": True})()
            result = self.fake.rpc(sock, self.what, {})
            self.finish({"result": result})
        except RpcError as e:
            self.set_status(e.code if e.code > 0 else 404)
            self.finish({"error": {"code": e.code, "message": e.message}})


class _Download(tornado.web.RequestHandler):
    def initialize(self, fake):
        self.fake = fake

    def get(self, path):
        path = tornado.escape.url_unescape(path)
        entry = self.fake.files.get(path)
        if entry is None:
            self.set_status(404)
            self.finish({"error": {"code": 404, "message": f"File does not exist: {path}"}})
            return
        self.finish(entry[0])


class _Snapshot(tornado.web.RequestHandler):
    def initialize(self, fake):
        self.fake = fake

    def get(self):
        self.fake.snapshots_served += 1
        self.set_header("Content-Type", "image/jpeg")
        self.finish(JPEG)


class _Upload(tornado.web.RequestHandler):
    def initialize(self, fake):
        self.fake = fake

    def post(self):
        if not self.fake.authorized(self):
            self.set_status(401)
            self.finish({"error": {"code": 401, "message": "Unauthorized"}})
            return
        if self.fake.refuse_uploads:
            code, message = self.fake.refuse_uploads
            self.set_status(code)
            self.finish({"error": {"code": code, "message": message}})
            return
        part = self.request.files.get("file", [None])[0]
        if part is None:
            self.set_status(400)
            self.finish({"error": {"code": 400, "message": "No file name specifed in upload"}})
            return
        folder = self.get_body_argument("path", "").strip("/")
        path = posixpath.join(folder, part["filename"]) if folder else part["filename"]
        ps = self.fake.status["print_stats"]
        if ps["state"] in ("printing", "paused") and ps["filename"] == path:
            self.set_status(403)
            self.finish({"error": {"code": 403,
                                   "message": "File is loaded, upload not permitted"}})
            return
        self.fake.uploads.append(path)
        self.fake.files[path] = (part["body"], time.time(), {
            "size": len(part["body"]), "modified": time.time(), "filename": path})
        d = posixpath.dirname(path)
        while d:
            self.fake.dirs.add(d)
            d = posixpath.dirname(d)
        self.fake._filelist("create_file", path)
        self.set_status(201)
        self.finish({"result": {"item": {"path": path, "root": "gcodes",
                                         "modified": time.time(), "size": len(part["body"]),
                                         "permissions": "rw"},
                                "print_started": False, "print_queued": False,
                                "action": "create_file"}})


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=1, help="fakes (one port each)")
    ap.add_argument("--api-key", default=None)
    ap.add_argument("--port-file", required=True, help="writes one port per line")
    ap.add_argument("--print", dest="print_file", default=None,
                    help="every fake prints this file (endless, for benchmarks)")
    args = ap.parse_args()
    hub = MoonrakerHub()
    fakes = []
    for i in range(args.count):
        f = FakeMoonraker(api_key=args.api_key, hub=hub, serial=f"{0x20000000 + i:016x}")
        f.start()
        if args.print_file:
            f.add_file(args.print_file, b"G1 X1\n" * 1000, estimated_time=3600)
            hub.call(f.rpc, type("S", (), {"authorized": True})(), "printer.print.start",
                     {"filename": args.print_file})
        fakes.append(f)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as out:
        out.write("".join(f"{f.port}\n" for f in fakes))
    os.rename(tmp, args.port_file)
    threading.Event().wait()


if __name__ == "__main__":
    main()
