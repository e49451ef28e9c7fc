"""A fake fleet of Bambu Lab printers (LAN mode) for the bridge's tests.

A real printer runs its own MQTT broker (TLS, port 8883, user "bblp",
password = LAN access code). Here one real mosquitto broker stands in for
all of them (tests/bridge/local_servers.py starts it): the bridge connects
as "bblp", and this fleet connects as another user and plays every printer
over one paho client and one thread. It mirrors the message shapes of
Doridian/OpenBambuAPI mqtt.md and what ha-bambulab parses (see the notes the
driver was written from):

  topics     device/{serial}/request (commands in), device/{serial}/report
             (reports and answers out); one JSON object per message whose
             only key is the type: {"print": {...}}, {"info": {...}}, ...
  reports    {"print": {"command": "push_status", "msg": 0|1,
             "sequence_id": "<printer's counter>", ...fields}}. pushing.pushall
             gets one full object (msg 0, no other answer). Otherwise P1/A1/
             P2S/H2 style printers send deltas (msg 1): only the fields that
             changed; X1/X1E (serial 00M, 00W, 03W) send the full object each
             time. A fresh fake has "already" reported everything, so a client
             learns the full state only by asking pushall, as with a real one.
  fields     gcode_state IDLE/PREPARE/RUNNING/PAUSE/FINISH/FAILED; temperatures
             as floats in 1/32 degree steps; fan speeds as strings "0".."15";
             mc_remaining_time in minutes; stg_cur -1 (X1) or 255 (others)
             when idle; print_error an int (0x0300400C = 50348044 "cancelled"
             for a few seconds after a stop); hms [{"attr": int, "code": int}];
             H2D/H2S/P2S (094, 093, 22E) also carry the newer "device" block
             with packed temperatures (low 16 bits current, high 16 target).
  answers    the request echoed, plus "result"/"reason": "success"/"success"
             ("SUCCESS"/"SUCCESS" for gcode_line: the case differs between
             commands and firmwares, so clients must compare case-blind);
             refusals have "result": "fail" and a "reason". pushall is not
             answered; unknown commands and requests without a sequence_id
             are dropped silently, as is a gcode_line whose param does not end
             in "\\n" (the firmware ignores those).
  commands   print.pause/resume/stop/gcode_line/gcode_file/project_file/
             print_speed, pushing.pushall/start, info.get_version,
             system.ledctrl. Stop cancels a job into FAILED (+0300400C for
             cancel_error_seconds); stop on FAILED/FINISH goes back to IDLE.
             Prints check the file under sd_root: "file:///sdcard/x.3mf",
             "file:///mnt/sdcard/x.3mf", "ftp:///x.3mf", "ftp:///cache/x.3mf",
             "/sdcard/x.gcode" and "x.gcode" all name sd_root/... .
             Then PREPARE (prepare_seconds, heating) -> RUNNING (print_seconds,
             mc_percent up, mc_remaining_time and layers moving) -> FINISH.
             gcode_line applies M104/M140/M141/M106 to the reported targets/fans.

Which of these shapes are documented and which are inferred is written up in
the driver's research notes; the uncertain ones are: the exact "reason"
strings, "fail" as the refusal result, "msg", what gcode_file shows for a
project_file print (here: the 3mf's name) and the refusal texts.

Tests drive it directly:

    fleet = BambuFleet(host, port, ca_file, username, password)
    p = fleet.add("01P00A000000001", sd_root=dir)     # -> FakeBambu
    p.print_seconds = 6                                # job length
    p.set(chamber_temper=30.0)                         # publish as a delta
    p.set_error(print_error=0x0300400C, hms=[{"attr": 0x03000100, "code": 0x00010007}])
    p.clear_error()
    p.fail_next("pause", "busy")                       # next pause is refused
    p.silent = True                                    # requests dropped unanswered
    p.mute_answers = True                              # obeyed but unanswered
    p.powered = False                                  # no reports, no answers
    p.publish_raw(b"{not json")
    req = p.wait_request("pause")                      # or a predicate
    p.requests, p.gcode_lines, p.state
    fleet.stop()

Benchmark CLI (runs until SIGTERM/SIGINT; prints "READY <count>" once
connected and every printer is added, before any stamp line):

    /usr/bin/python3 tests/bridge/fake_bambu.py --host 127.0.0.1 --port N \\
        --ca FILE --user U --password P --count 200 --serial-prefix 01P \\
        --sd-root DIR [--interval 1.0] [--stamp]

Serials are <prefix>00A + a 9-digit number from 1, e.g. 01P00A000000001.
Every printer publishes a nozzle_temper delta every --interval seconds
(staggered over the fleet). With --stamp, each such delta is
{"print": {"nozzle_temper": T, "command": "push_status", "msg": 1,
"sequence_id": ...}} where T is a whole number 100..199 (previous + 1,
wrapping; nothing else changes), and just before publishing it prints
"<serial> <T> <unix_time_ms>" on stdout (flushed), so a benchmark can match
the temperature it sees in telemetry back to when it was reported. (With an
X1 prefix, 00M/00W/03W, every report is the full object instead, as on X1s.)
"""
import argparse
import collections
import copy
import json
import os
import random
import signal
import sys
import threading
import time
import zipfile

import paho.mqtt.client as mqtt

TICK_S = 0.5
AMBIENT = 24.0
CANCELLED = 0x0300400C  # print_error right after a stop: "task cancelled"

MODELS = {
    "00M": "Bambu Lab X1 Carbon", "00W": "Bambu Lab X1", "03W": "Bambu Lab X1E",
    "01S": "Bambu Lab P1P", "01P": "Bambu Lab P1S", "030": "Bambu Lab A1 mini",
    "039": "Bambu Lab A1", "22E": "Bambu Lab P2S", "093": "Bambu Lab H2S",
    "094": "Bambu Lab H2D",
}
X1 = ("00M", "00W", "03W")
DEVICE_BLOCK = ("22E", "093", "094")
SPD_MAG = {1: 50, 2: 100, 3: 124, 4: 166}


def q32(x):
    """Temperatures come in 1/32 degree steps (e.g. 24.03125)."""
    return round(x * 32) / 32


def fan_string(s255):
    """M106 S0..255 -> the reported "0".."15"."""
    return str(max(0, min(15, round(int(s255) * 15 / 255))))


def merge(dst, src):
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            merge(dst[k], v)
        else:
            dst[k] = copy.deepcopy(v)


def initial_status(serial):
    idle_stage = -1 if serial[:3] in X1 else 255
    return {
        "ams": {"ams": [], "ams_exist_bits": "0", "insert_flag": False, "power_on_flag": False,
                "tray_exist_bits": "0", "tray_is_bbl_bits": "0", "tray_now": "255",
                "tray_pre": "255", "tray_read_done_bits": "0", "tray_reading_bits": "0",
                "tray_tar": "255", "version": 3},
        "ams_rfid_status": 0,
        "ams_status": 0,
        "aux_part_fan": True,
        "bed_target_temper": 0.0,
        "bed_temper": q32(AMBIENT - 0.4),
        "big_fan1_speed": "0",
        "big_fan2_speed": "0",
        "chamber_temper": q32(AMBIENT + 0.5),
        "cooling_fan_speed": "0",
        "fail_reason": "0",
        "fan_gear": 0,
        "filam_bak": [],
        "force_upgrade": False,
        "gcode_file": "",
        "gcode_file_prepare_percent": "0",
        "gcode_start_time": "0",
        "gcode_state": "IDLE",
        "heatbreak_fan_speed": "0",
        "hms": [],
        "home_flag": 0,
        "hw_switch_state": 0,
        "ipcam": {"ipcam_dev": "1", "ipcam_record": "enable", "resolution": "1080p",
                  "timelapse": "disable"},
        "layer_num": 0,
        "lifecycle": "product",
        "lights_report": [{"mode": "on", "node": "chamber_light"}],
        "maintain": 3,
        "mc_percent": 0,
        "mc_print_error_code": "0",
        "mc_print_stage": "1",
        "mc_print_sub_stage": 0,
        "mc_remaining_time": 0,
        "mess_production_state": "active",
        "nozzle_diameter": "0.4",
        "nozzle_target_temper": 0.0,
        "nozzle_temper": q32(AMBIENT + 0.3),
        "nozzle_type": "stainless_steel",
        "online": {"ahb": False, "rfid": False, "version": 7},
        "print_error": 0,
        "print_gcode_action": 0,
        "print_real_action": 0,
        "print_type": "idle",
        "profile_id": "",
        "project_id": "",
        "queue_number": 0,
        "sdcard": True,
        "spd_lvl": 2,
        "spd_mag": 100,
        "stg": [],
        "stg_cur": idle_stage,
        "subtask_id": "",
        "subtask_name": "",
        "task_id": "",
        "total_layer_num": 0,
        "upgrade_state": {"ahb_new_version_number": "", "ams_new_version_number": "",
                          "consistency_request": False, "dis_state": 0, "err_code": 0,
                          "force_upgrade": False, "message": "0%, 0B/s", "module": "",
                          "new_version_state": 2, "ota_new_version_number": "",
                          "progress": "0", "sequence_id": 0, "status": "IDLE"},
        "upload": {"file_size": 0, "finish_size": 0, "message": "Good", "oss_url": "",
                   "progress": 0, "sequence_id": "0903", "speed": 0, "status": "idle",
                   "task_id": "", "time_remaining": 0, "trouble_id": ""},
        "vt_tray": {"id": "254", "tray_type": "PLA", "tray_color": "FFFFFFFF",
                    "nozzle_temp_min": "190", "nozzle_temp_max": "240", "remain": 0,
                    "tray_info_idx": "GFL99", "cols": ["FFFFFFFF"]},
        "wifi_signal": "-45dBm",
        "xcam": {"allow_skip_parts": False, "buildplate_marker_detector": True,
                 "first_layer_inspector": True, "halt_print_sensitivity": "medium",
                 "print_halt": True, "printing_monitor": True, "spaghetti_detector": True},
        "xcam_status": "0",
    }


class BambuFleet:
    """One paho client and one thread playing any number of FakeBambus."""

    def __init__(self, host, port, ca_file, username, password, tick=TICK_S,
                 client_id=None):
        self.tick = tick
        self.lock = threading.RLock()
        self.printers = {}
        self._outbox = collections.deque()
        self._stopping = False
        self._connected = threading.Event()
        self.client = mqtt.Client(client_id=client_id or f"fake-bambu-{os.getpid()}-{id(self):x}",
                                  clean_session=True, protocol=mqtt.MQTTv311)
        self.client.username_pw_set(username, password)
        self.client.tls_set(ca_certs=ca_file)
        self.client.tls_insecure_set(True)  # verify the chain, not the host name
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda c, u, rc: self._connected.clear()
        self.client.on_message = self._on_message
        self.client.connect(host, port, keepalive=30)
        self.thread = threading.Thread(target=self._run, name="fake-bambu", daemon=True)
        self.thread.start()
        if not self._connected.wait(10):
            self.stop()
            raise TimeoutError("the fake Bambu fleet could not connect to the broker")

    def add(self, serial, sd_root=None, **kw):
        p = FakeBambu(self, serial, sd_root, **kw)
        with self.lock:
            self.printers[serial] = p
        return p

    def remove(self, serial):
        with self.lock:
            self.printers.pop(serial, None)

    def stop(self):
        self._stopping = True
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(5)
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass

    # ---- the thread ----
    def _on_connect(self, client, userdata, flags, rc):
        if rc == 0:
            client.subscribe("device/+/request", qos=1)
            self._connected.set()

    def _on_message(self, client, userdata, msg):
        parts = msg.topic.split("/")
        if len(parts) != 3 or parts[2] != "request":
            return
        with self.lock:
            p = self.printers.get(parts[1])
            if p is not None:
                p._request(msg.payload)

    def _send(self, topic, payload):
        self._outbox.append((topic, payload))

    def _run(self):
        while not self._stopping:
            rc = self.client.loop(timeout=0.02)
            if rc != mqtt.MQTT_ERR_SUCCESS and not self._stopping:
                time.sleep(0.2)
                try:
                    self.client.reconnect()
                except Exception:  # noqa: BLE001 - broker still down; retry
                    pass
                continue
            now = time.monotonic()
            with self.lock:
                for p in list(self.printers.values()):
                    p._maybe_tick(now)
            self._flush()
        self._flush()

    def _flush(self):
        while self._outbox:
            topic, payload = self._outbox.popleft()
            self.client.publish(topic, payload, qos=0)


class FakeBambu:
    """One printer: its state, its simulated job and its test controls."""

    def __init__(self, fleet, serial, sd_root=None, temp_interval=2.0, stamp_out=None,
                 phase=0.0):
        self.fleet = fleet
        self.serial = serial
        self.prefix = serial[:3]
        self.sd_root = sd_root
        self.model = MODELS.get(self.prefix, "Bambu Lab P1S")
        self.full_reports = self.prefix in X1
        self.device_block = self.prefix in DEVICE_BLOCK
        self.idle_stage = -1 if self.prefix in X1 else 255
        self.status = initial_status(serial)
        self._derive()
        self._published = copy.deepcopy(self.status)
        self.seq = 2000
        self.rng = random.Random(serial)
        # job
        self.prepare_seconds = 1.0
        self.print_seconds = 6.0
        self.estimate_minutes = 42
        self.total_layers = 50
        self.cancel_error_seconds = 3.0
        self.job_temps = (220.0, 65.0)  # nozzle, bed targets of a job
        self._job_t = 0.0  # seconds of RUNNING done
        self._phase_t = 0.0  # seconds in PREPARE
        self._clear_error_at = None
        # test controls
        self.silent = False  # requests are recorded, then dropped: no effect, no answer
        self.mute_answers = False  # requests take effect but are not answered
        self.powered = True  # False: no reports, no answers, requests dropped
        self.requests = []
        self.bad_requests = []
        self.gcode_lines = []
        self._fail = {}
        self._cond = threading.Condition(fleet.lock)
        # timers
        now = time.monotonic()
        self.temp_interval = temp_interval
        self.stamp_out = stamp_out
        self._stamp = 99
        self._next_tick = now + fleet.tick
        self._next_temp = now + (phase if phase else temp_interval)
        self._last_tick = now

    # ---- controls for tests ----
    @property
    def state(self):
        return self.status["gcode_state"]

    def set(self, **fields):
        """Merges print fields into the state and publishes them as a delta."""
        with self.fleet.lock:
            merge(self.status, fields)
            self._derive()
            self._report(fields)

    def set_error(self, print_error=None, hms=None, **fields):
        if print_error is not None:
            fields["print_error"] = int(print_error)
        if hms is not None:
            fields["hms"] = [{"attr": int(h["attr"]), "code": int(h["code"])} for h in hms]
        self.set(**fields)

    def clear_error(self):
        self.set(print_error=0, hms=[])

    def fail_next(self, command, reason="failed", err_code=None):
        """The next request with this command is refused (and has no effect)."""
        with self.fleet.lock:
            self._fail[command] = (reason, err_code)

    def publish_raw(self, payload):
        if isinstance(payload, str):
            payload = payload.encode()
        self.fleet._send(self.topic, payload)

    def wait_request(self, pred, timeout=5.0, start=0):
        """The first request (decoded, e.g. {"print": {...}}) from index start
        matching pred: a callable, or a command name like "pause"."""
        if isinstance(pred, str):
            name = pred
            pred = lambda r: any(isinstance(b, dict) and b.get("command") == name  # noqa: E731
                                 for b in r.values())
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for r in self.requests[start:]:
                    if pred(r):
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self.serial}: no matching request in {timeout}s; "
                                       f"got {self.requests!r}")
                self._cond.wait(min(left, 0.1))

    def reset_job(self):
        """Back to a clean IDLE printer (as after a power cycle)."""
        with self.fleet.lock:
            fresh = initial_status(self.serial)
            keep = ("nozzle_temper", "bed_temper", "chamber_temper")
            changes = {k: v for k, v in fresh.items()
                       if k not in keep and self.status.get(k) != v}
            self.status.update(changes)
            self._clear_error_at = None
            self._sync()

    @property
    def topic(self):
        return f"device/{self.serial}/report"

    # ---- reports ----
    def _next_seq(self):
        self.seq += 1
        return str(self.seq)

    def _publish(self, body):
        if not self.powered:
            return
        self.fleet._send(self.topic, json.dumps({"print": body}, separators=(",", ":")))

    def _report(self, fields):
        """Publishes these fields (a delta; the full object on X1)."""
        merge(self._published, fields)
        if self.full_reports:
            self._published = copy.deepcopy(self.status)
            self._push_full()
            return
        body = copy.deepcopy(fields)
        body.update(command="push_status", msg=1, sequence_id=self._next_seq())
        self._publish(body)

    def _push_full(self):
        self._published = copy.deepcopy(self.status)
        body = copy.deepcopy(self.status)
        body.update(command="push_status", msg=0, sequence_id=self._next_seq())
        self._publish(body)

    def _sync(self):
        """Publishes whatever changed since the last report."""
        self._derive()
        changed = {k: v for k, v in self.status.items() if self._published.get(k) != v}
        if changed:
            self._report(copy.deepcopy(changed))

    def _derive(self):
        s = self.status
        s["heatbreak_fan_speed"] = "15" if s["nozzle_temper"] > 50 else "0"
        if self.device_block:
            def pack(cur, tgt):
                return (int(tgt) & 0xFFFF) << 16 | (int(round(cur)) & 0xFFFF)
            s["device"] = {
                "bed": {"info": {"temp": pack(s["bed_temper"], s["bed_target_temper"])},
                        "state": 2 if s["bed_target_temper"] else 0},
                "ctc": {"info": {"temp": pack(s["chamber_temper"], 0)}, "state": 0},
                "extruder": {"info": [{"id": 0, "temp": pack(s["nozzle_temper"],
                                                              s["nozzle_target_temper"])}],
                             "state": 1},
            }

    # ---- requests ----
    def _answer(self, kind, body, result="success", reason="success", err_code=None):
        if self.silent or self.mute_answers or not self.powered:
            return
        out = copy.deepcopy(body)
        out["result"] = result
        out["reason"] = reason
        if err_code is not None:
            out["err_code"] = err_code
        self.fleet._send(self.topic, json.dumps({kind: out}, separators=(",", ":")))

    def _request(self, payload):
        try:
            msg = json.loads(payload)
        except ValueError:
            self.bad_requests.append(payload)
            self._cond.notify_all()
            return
        if not isinstance(msg, dict):
            self.bad_requests.append(payload)
            self._cond.notify_all()
            return
        self.requests.append(msg)
        self._cond.notify_all()
        if self.silent or not self.powered:
            return
        for kind, body in msg.items():
            if not isinstance(body, dict) or "sequence_id" not in body:
                continue  # the firmware drops these without a word
            cmd = body.get("command")
            if cmd in self._fail:
                reason, err_code = self._fail.pop(cmd)
                self._answer(kind, body, "fail", reason, err_code)
                continue
            handler = getattr(self, f"_cmd_{kind}_{cmd}", None)
            if handler is not None:
                handler(kind, body)

    def _cmd_pushing_pushall(self, kind, body):
        self._derive()
        self._push_full()

    def _cmd_pushing_start(self, kind, body):
        pass

    def _cmd_info_get_version(self, kind, body):
        sn = self.serial
        if self.prefix in ("00M", "00W"):
            main = {"name": "rv1126", "hw_ver": "AP05", "sn": sn, "sw_ver": "00.00.32.14"}
        elif self.prefix == "03W":
            main = {"name": "ap", "hw_ver": "AP02", "sn": sn, "sw_ver": "00.00.32.14", "flag": 0}
        else:
            project = {"01S": "C11", "01P": "C12", "030": "N1", "039": "N2S"}.get(self.prefix, "")
            main = {"name": "esp32", "hw_ver": "AP04", "sn": sn, "sw_ver": "01.11.35.43",
                    "project_name": project, "product_name": "", "visible": False, "flag": 0,
                    "loader_ver": "00.00.00.00"}
        modules = [
            {"name": "ota", "hw_ver": "OTA", "sn": sn, "sw_ver": "01.08.02.00",
             "product_name": self.model, "visible": True, "flag": 0,
             "loader_ver": "00.00.00.00"},
            main,
            {"name": "mc", "hw_ver": "MC07", "sn": "00000000000000", "sw_ver": "00.00.23.47/00.00.23.47"},
            {"name": "th", "hw_ver": "TH07", "sn": "00000000000000", "sw_ver": "00.00.07.67"},
        ]
        if self.silent or self.mute_answers or not self.powered:
            return
        out = {"command": "get_version", "sequence_id": body["sequence_id"], "module": modules,
               "result": "success", "reason": ""}
        self.fleet._send(self.topic, json.dumps({"info": out}, separators=(",", ":")))

    def _cmd_system_ledctrl(self, kind, body):
        node, mode = body.get("led_node"), body.get("led_mode")
        lights = [x for x in self.status["lights_report"] if x.get("node") != node]
        lights.append({"mode": mode, "node": node})
        self.status["lights_report"] = lights
        self._answer(kind, body)
        self._sync()

    def _cmd_print_print_speed(self, kind, body):
        try:
            lvl = int(body.get("param", ""))
        except ValueError:
            lvl = 0
        if lvl not in SPD_MAG:
            self._answer(kind, body, "fail", "invalid speed level")
            return
        self.status.update(spd_lvl=lvl, spd_mag=SPD_MAG[lvl])
        self._answer(kind, body)
        self._sync()

    def _cmd_print_pause(self, kind, body):
        if self.state not in ("RUNNING", "PREPARE"):
            self._answer(kind, body, "fail", "no print to pause")
            return
        self._paused_from = self.state
        self.status.update(gcode_state="PAUSE", stg_cur=16)
        self._answer(kind, body)
        self._sync()

    def _cmd_print_resume(self, kind, body):
        if self.state != "PAUSE":
            self._answer(kind, body, "fail", "no paused print to resume")
            return
        back = getattr(self, "_paused_from", "RUNNING")
        self.status.update(gcode_state=back, stg_cur=0 if back == "RUNNING" else 2,
                           print_error=0)
        self._answer(kind, body)
        self._sync()

    def _cmd_print_stop(self, kind, body):
        st = self.state
        self._answer(kind, body)
        if st in ("RUNNING", "PAUSE", "PREPARE"):
            self._end_job("FAILED")
            self.status["print_error"] = CANCELLED
            self._clear_error_at = time.monotonic() + self.cancel_error_seconds
        elif st in ("FAILED", "FINISH"):
            self.status.update(gcode_state="IDLE", print_error=0, mc_print_stage="1",
                               stg_cur=self.idle_stage)
            self._clear_error_at = None
        self._sync()

    def _cmd_print_gcode_line(self, kind, body):
        param = body.get("param")
        if not isinstance(param, str) or not param.endswith("\n"):
            return  # unterminated: the firmware ignores it
        for line in param.splitlines():
            line = line.strip()
            if not line:
                continue
            self.gcode_lines.append(line)
            self._apply_gcode(line)
        self._answer(kind, body, "SUCCESS", "SUCCESS")
        self._sync()

    def _apply_gcode(self, line):
        words = line.split(";")[0].split()
        if not words:
            return
        args = {w[0].upper(): w[1:] for w in words[1:] if w}
        try:
            s = float(args.get("S", "0"))
        except ValueError:
            return
        code = words[0].upper()
        if code in ("M104", "M109"):
            self.status["nozzle_target_temper"] = float(int(s))
        elif code in ("M140", "M190"):
            self.status["bed_target_temper"] = float(int(s))
        elif code == "M106":
            field = {"1": "cooling_fan_speed", "2": "big_fan1_speed",
                     "3": "big_fan2_speed"}.get(args.get("P", "1"))
            if field:
                self.status[field] = fan_string(s)
        elif code == "M107":
            self.status["cooling_fan_speed"] = "0"

    def _sd_path(self, ref):
        """Maps file:///sdcard/x, ftp:///cache/x, /sdcard/x, x ... to sd_root."""
        for lead in ("file://", "ftp://"):
            if ref.startswith(lead):
                ref = ref[len(lead):]
        for lead in ("/mnt/sdcard/", "/sdcard/", "/mnt/sdcard", "/sdcard"):
            if ref.startswith(lead):
                ref = ref[len(lead):]
                break
        ref = ref.lstrip("/")
        if not ref or self.sd_root is None:
            return None
        root = os.path.realpath(self.sd_root)
        path = os.path.realpath(os.path.join(root, ref))
        if not path.startswith(root + os.sep):
            return None
        return path

    def _cmd_print_project_file(self, kind, body):
        ref = body.get("url") or body.get("file") or ""
        path = self._sd_path(ref)
        plate = body.get("param") or "Metadata/plate_1.gcode"
        if not self._can_start(kind, body, path):
            return
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                if plate not in z.namelist():
                    self._answer(kind, body, "fail", f"{plate} not found in the 3mf")
                    return
        name = os.path.basename(path)
        subtask = body.get("subtask_name") or os.path.splitext(name)[0]
        self._answer(kind, body)
        self._start_job(name, subtask, body)

    def _can_start(self, kind, body, path):
        """Refuses a print (answers "fail") while busy or without the file."""
        if self.state in ("RUNNING", "PAUSE", "PREPARE"):
            self._answer(kind, body, "fail", "printer is busy")
            return False
        if path is None or not os.path.isfile(path):
            self._answer(kind, body, "fail", "file not found")
            return False
        return True

    def _cmd_print_gcode_file(self, kind, body):
        ref = body.get("param") or ""
        path = self._sd_path(ref)
        if not self._can_start(kind, body, path):
            return
        name = os.path.basename(path)
        self._answer(kind, body)
        self._start_job(ref, os.path.splitext(name)[0], body)

    # ---- the simulated job ----
    def _start_job(self, gcode_file, subtask, body):
        self._phase_t = 0.0
        self._job_t = 0.0
        self._clear_error_at = None
        self.status.update(
            gcode_state="PREPARE", gcode_file=gcode_file, subtask_name=subtask,
            subtask_id=str(body.get("subtask_id", "0")), task_id=str(body.get("task_id", "0")),
            project_id=str(body.get("project_id", "0")), profile_id=str(body.get("profile_id", "0")),
            print_type="local", mc_print_stage="2", mc_percent=0, mc_remaining_time=0,
            layer_num=0, total_layer_num=0, print_error=0, stg=[2, 13, 1], stg_cur=2,
            gcode_file_prepare_percent="0", gcode_start_time=str(int(time.time())),
            nozzle_target_temper=self.job_temps[0], bed_target_temper=self.job_temps[1])
        self._sync()

    def _end_job(self, state):
        self.status.update(gcode_state=state, mc_print_stage="1", stg_cur=self.idle_stage,
                           nozzle_target_temper=0.0, bed_target_temper=0.0,
                           cooling_fan_speed="0", big_fan1_speed="0", big_fan2_speed="0",
                           mc_remaining_time=0)
        if state == "FINISH":
            self.status.update(mc_percent=100, layer_num=self.status["total_layer_num"])

    def _maybe_tick(self, now):
        if now >= self._next_tick:
            dt = now - self._last_tick
            self._last_tick = now
            self._next_tick = now + self.fleet.tick
            self._tick(dt, now)
        if now >= self._next_temp:
            self._next_temp += self.temp_interval
            if self._next_temp < now:
                self._next_temp = now + self.temp_interval
            self._temp_report(now)

    def _tick(self, dt, now):
        s = self.status
        st = s["gcode_state"]
        if self._clear_error_at is not None and now >= self._clear_error_at:
            self._clear_error_at = None
            if s["print_error"] == CANCELLED:
                s["print_error"] = 0
        if st == "PREPARE":
            self._phase_t += dt
            frac = min(1.0, self._phase_t / max(self.prepare_seconds, 1e-3))
            s["gcode_file_prepare_percent"] = str(int(frac * 100))
            s["stg_cur"] = 2 if frac < 0.5 else 1
            if frac >= 1.0:
                s.update(gcode_state="RUNNING", stg_cur=0, total_layer_num=self.total_layers,
                         layer_num=1, mc_remaining_time=self.estimate_minutes,
                         cooling_fan_speed="15", gcode_file_prepare_percent="100")
        elif st == "RUNNING":
            self._job_t += dt
            frac = min(1.0, self._job_t / max(self.print_seconds, 1e-3))
            s["mc_percent"] = int(frac * 100)
            s["mc_remaining_time"] = int(round(self.estimate_minutes * (1 - frac)))
            s["layer_num"] = max(1, min(self.total_layers, int(frac * self.total_layers) + 1))
            if frac >= 1.0:
                self._end_job("FINISH")
        if self.stamp_out is not None:
            return  # benchmark: nothing but the stamped deltas
        if st in ("PREPARE", "RUNNING", "PAUSE") or s["nozzle_target_temper"] or \
                s["bed_target_temper"] or abs(s["nozzle_temper"] - AMBIENT) > 2 or \
                abs(s["bed_temper"] - AMBIENT) > 2:
            self._heat(dt)
        self._sync()

    def _heat(self, dt):
        s = self.status
        k = min(1.0, 0.9 * dt)
        for field, target in (("nozzle_temper", "nozzle_target_temper"),
                              ("bed_temper", "bed_target_temper")):
            goal = s[target] or AMBIENT
            s[field] = q32(s[field] + (goal - s[field]) * k + self.rng.uniform(-0.2, 0.2))
        goal = AMBIENT + 0.1 * (s["bed_temper"] - AMBIENT)
        s["chamber_temper"] = q32(s["chamber_temper"] + (goal - s["chamber_temper"]) * k * 0.2)

    def _temp_report(self, now):
        """At least every temp_interval a temperature delta, as a real printer."""
        s = self.status
        if self.stamp_out is not None:
            self._stamp = 100 + (self._stamp + 1 - 100) % 100
            s["nozzle_temper"] = float(self._stamp)
            ms = int(time.time() * 1000)
            self.stamp_out.write(f"{self.serial} {self._stamp} {ms}\n")
            self.stamp_out.flush()
            self._report({"nozzle_temper": s["nozzle_temper"]})
            return
        for field, target, noise in (("nozzle_temper", "nozzle_target_temper", 0.4),
                                     ("bed_temper", "bed_target_temper", 0.2)):
            goal = s[target] or AMBIENT
            old = s[field]
            while s[field] == old:  # always a change to report
                s[field] = q32(old + (goal - old) * 0.3 + self.rng.uniform(-noise, noise))
        self._sync()


def main(argv=None):
    ap = argparse.ArgumentParser(description="A fleet of fake Bambu Lab printers (LAN MQTT).")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True, help="CA file the broker's certificate chains to")
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--serial-prefix", default="01P")
    ap.add_argument("--sd-root", default=None)
    ap.add_argument("--interval", type=float, default=1.0,
                    help="seconds between each printer's nozzle temperature deltas")
    ap.add_argument("--stamp", action="store_true",
                    help="nozzle_temper = 100..199 counter; print '<serial> <temp> <unix_ms>'")
    a = ap.parse_args(argv)
    fleet = BambuFleet(a.host, a.port, a.ca, a.user, a.password,
                       tick=min(TICK_S, a.interval))
    with fleet.lock:  # nothing is published before READY
        for i in range(a.count):
            serial = f"{a.serial_prefix}00A{i + 1:09d}"
            fleet.add(serial, sd_root=a.sd_root, temp_interval=a.interval,
                      stamp_out=sys.stdout if a.stamp else None,
                      phase=a.interval * (i + 1) / a.count)
        print(f"READY {a.count}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fleet.stop()


if __name__ == "__main__":
    main()
