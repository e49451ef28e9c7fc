"""End to end: OctoPrint-PrusaConnect inside a real OctoPrint 1.10 with its
virtual printer, against the Connect emulator. Not collected by pytest (no
test_ prefix) and not run by CTest: it needs an OctoPrint installed as in
docs (the recipe: OctoPrint and its dependencies installed with
`pip install --target`) and root, to run OctoPrint as an unprivileged user.

    OCTOPRINT_SOURCE=/path/to/OctoPrint/src/tree \\
        /usr/bin/python3 tests/octoprint_plugin/e2e_real_octoprint.py

Environment:
  OCTO_SITE              OctoPrint's site directory (default /work/octo/site)
  OCTO_USER              the unprivileged user OctoPrint runs as (default octo)
  OCTOPRINT_SOURCE       OctoPrint's source tree (optional): its version is
                         checked, and its src/ is used when OCTO_SITE has no
                         octoprint package
  PRUSACONNECT_BUILD     the build directory (default <repo>/build): its
                         python/prusaconnect, src/libprusaconnect.so* and
                         src/emulator/prusaconnect-emulator are used
  E2E_KEEP=1             keep the temporary directory (logs) afterwards

Everything runs on 127.0.0.1 on free ports, in a temporary directory: a base
directory with config.yaml and users.yaml, the plugin installed (pip
--target, from a copy of examples/octoprint_plugin) with the prusaconnect
module next to it on PYTHONPATH, a fresh emulator. Scenarios: 1 first start
and registration code, 2 approval and token, 3 Connect's commands, 5 the
register/reset API and the token's masking, 6 shutdown. Prints PASS/FAIL per
scenario; exits 1 when one failed. Standard library only (+ the harness).
"""
import base64
import functools
import hashlib
import http.server
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "octoprint"))
from harness import (Emulator, _read_int, fingerprint,  # noqa: E402  pylint: disable=wrong-import-position
                     wait_for)

OCTO_SITE = os.environ.get("OCTO_SITE", "/work/octo/site")
OCTO_USER = os.environ.get("OCTO_USER", "octo")
OCTOPRINT_SOURCE = os.environ.get("OCTOPRINT_SOURCE", "")
BUILD = os.environ.get("PRUSACONNECT_BUILD", os.path.join(REPO, "build"))
EMULATOR = os.path.join(BUILD, "src", "emulator", "prusaconnect-emulator")
PLUGIN_SRC = os.path.join(REPO, "examples", "octoprint_plugin")

UUID = "8d3f2a61-5c0e-4b7f-9a12-3e4d5c6b7a80"
FP = fingerprint(UUID)
ADMIN_KEY = secrets.token_urlsafe(24)
USER_KEY = secrets.token_urlsafe(24)


class Failed(AssertionError):
    pass


def check(condition, what):
    if not condition:
        raise Failed(what)
    print(f"    ok: {what}")


def log(text):
    print(f"  {text}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ab64(data):
    return base64.b64encode(data).decode().rstrip("=").replace("+", ".")


def pbkdf2_sha256(password):
    """passlib's pbkdf2_sha256 format, which OctoPrint 1.10 accepts."""
    salt = os.urandom(16)
    rounds = 29000
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, rounds)
    return f"$pbkdf2-sha256${rounds}${_ab64(salt)}${_ab64(digest)}"


class OctoPrint:
    """A real OctoPrint, as OCTO_USER, on 127.0.0.1:<free port>."""

    def __init__(self, root, emulator_url):
        self.root = root
        self.base = os.path.join(root, "base")
        self.site = os.path.join(root, "site")
        self.lib = os.path.join(root, "lib")
        self.probe = os.path.join(root, "probe")
        self.home = os.path.join(root, "home")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.pid = None
        self.out = None
        self.emulator_url = emulator_url

    # ---- files
    def install(self):
        for d in (self.base, self.site, self.lib, self.probe, self.home):
            os.makedirs(d, exist_ok=True)
        # the plugin, as a user installs it (from a copy: pip builds in the tree)
        src = os.path.join(self.root, "plugin-src")
        shutil.copytree(PLUGIN_SRC, src, ignore=shutil.ignore_patterns(
            "__pycache__", "build", "*.egg-info"))
        out = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index",
             "--no-build-isolation", "--disable-pip-version-check", "--target", self.site, src],
            cwd=self.root, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise RuntimeError("pip install of the plugin failed:\n" + out.stdout + out.stderr)
        # the prusaconnect module and the library it links
        shutil.copytree(os.path.join(BUILD, "python", "prusaconnect"),
                        os.path.join(self.site, "prusaconnect"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        srcdir = os.path.join(BUILD, "src")
        for name in os.listdir(srcdir):
            if name.startswith("libprusaconnect.so"):
                shutil.copy2(os.path.join(srcdir, name), self.lib, follow_symlinks=False)
        # an atexit probe (runs after OctoPrint's own shutdown): did the
        # plugin's on_shutdown stop the bridge?
        with open(os.path.join(self.probe, "sitecustomize.py"), "w") as f:
            f.write(_PROBE.replace("@OUT@", os.path.join(self.base, "shutdown-probe.json")))
        self._write_config()
        self._write_users()
        for dirpath, dirnames, filenames in os.walk(self.root):
            for n in dirnames + filenames:
                p = os.path.join(dirpath, n)
                if not os.path.islink(p):
                    os.chmod(p, os.stat(p).st_mode | 0o444 | (0o111 if os.path.isdir(p) else 0))
        os.chmod(self.root, 0o755)
        for d in (self.base, self.home):
            _chown_tree(d, OCTO_USER)

    def _write_config(self):
        # JSON is YAML: OctoPrint reads it and rewrites it as YAML
        config = {
            "server": {"host": "127.0.0.1", "port": self.port, "firstRun": False,
                       "onlineCheck": {"enabled": False}, "pluginBlacklist": {"enabled": False},
                       "seenWizards": {"corewizard": 4, "tracking": None, "backup": None}},
            "accessControl": {"autologinLocal": False},
            "serial": {"port": "VIRTUAL", "baudrate": 0, "autoconnect": True,
                       "additionalPorts": []},
            "plugins": {
                "_disabled": ["tracking", "announcements", "softwareupdate", "pluginmanager",
                              "errortracking", "discovery", "backup", "achievements"],
                "virtual_printer": {
                    "_config_version": 1, "enabled": True,
                    "m115FormatString": "FIRMWARE_NAME:{firmware_name} PROTOCOL_VERSION:1.0 "
                                        "MACHINE_TYPE:VirtualPrinter EXTRUDER_COUNT:1 "
                                        f"UUID:{UUID}"},
                "prusaconnect": {"server": self.emulator_url, "idle_interval": 1,
                                 "printing_interval": 1, "printer_wait": 60},
            },
        }
        with open(os.path.join(self.base, "config.yaml"), "w") as f:
            json.dump(config, f, indent=1)

    def _write_users(self):
        users = {"_version": 2}
        for name, key, admin in (("admin", ADMIN_KEY, True), ("user", USER_KEY, False)):
            users[name] = {"active": True, "apikey": key,
                           "groups": ["admins"] if admin else ["users"],
                           "password": pbkdf2_sha256(secrets.token_urlsafe(12)),
                           "permissions": [], "roles": ["user", "admin"] if admin else ["user"],
                           "settings": {}}
        path = os.path.join(self.base, "users.yaml")
        with open(path, "w") as f:
            json.dump(users, f, indent=1)

    def config_text(self):
        with open(os.path.join(self.base, "config.yaml"), encoding="utf-8") as f:
            return f.read()

    def plugin_setting(self, key):
        """plugins.prusaconnect.<key> from config.yaml as OctoPrint wrote it
        (block YAML: the plugin's section is indented by 2, its keys by 4)."""
        text = self.config_text()
        m = re.search(r"^  prusaconnect:\n((?:    .*\n)+)", text, re.M)
        if not m:
            return None
        k = re.search(rf"^    {re.escape(key)}: (.*)$", m.group(1), re.M)
        return k.group(1).strip().strip("'\"") if k else None

    def log_text(self):
        try:
            with open(os.path.join(self.base, "logs", "octoprint.log"), encoding="utf-8",
                      errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def out_text(self):
        try:
            with open(os.path.join(self.root, "octoprint.out"), encoding="utf-8",
                      errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # ---- process
    def start(self):
        pythonpath = [self.probe, self.site, OCTO_SITE]
        if OCTOPRINT_SOURCE and not os.path.isdir(os.path.join(OCTO_SITE, "octoprint")):
            pythonpath.append(os.path.join(OCTOPRINT_SOURCE, "src"))
        pidfile = os.path.join(self.base, "octoprint.pid")
        inner = (f"echo $$ > {pidfile}; exec env HOME={self.home} "
                 f"LD_LIBRARY_PATH={self.lib} PYTHONPATH={':'.join(pythonpath)} "
                 f"{sys.executable} -m octoprint --basedir {self.base} serve "
                 f"--host 127.0.0.1 --port {self.port}")
        cmd = ["sh", "-c", inner]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", OCTO_USER, "--"] + cmd
        elif pwd.getpwuid(os.geteuid()).pw_name != OCTO_USER:
            raise RuntimeError(f"run as root (to start OctoPrint as {OCTO_USER}) or as {OCTO_USER}")
        self.out = open(os.path.join(self.root, "octoprint.out"), "w")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, cwd=self.root, stdout=self.out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = wait_for(lambda: _read_int(pidfile), 10)
        up = wait_for(lambda: self.request("GET", "/api/version")[0] == 200
                      or self.proc.poll() is not None, 90, 0.1)
        if not up or self.proc.poll() is not None:
            raise RuntimeError("OctoPrint did not come up:\n" + self.out_text()[-3000:])
        return time.monotonic() - self.started

    def stop(self, timeout=30):
        """SIGTERM to the Python process; seconds until it exited, or None."""
        if self.proc is None or self.proc.poll() is not None:
            return None
        t0 = time.monotonic()
        try:
            os.kill(self.pid, signal.SIGTERM)
        except (OSError, TypeError):
            pass
        try:
            self.proc.wait(timeout)
            took = time.monotonic() - t0
        except subprocess.TimeoutExpired:
            took = None
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait(10)
        self.out.close()
        return took

    # ---- API
    def request(self, method, path, body=None, key=ADMIN_KEY, raw=None, ctype="application/json"):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"Content-Type": ctype}
        if key:
            headers["X-Api-Key"] = key
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, text = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        except Exception:  # pylint: disable=broad-except
            # not up yet: refused, or the intermediary server's bare "Not found"
            return 0, None
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, text

    def status(self, key=ADMIN_KEY):
        return self.request("GET", "/api/plugin/prusaconnect", key=key)[1] or {}

    def upload(self, name, content):
        boundary = "----e2e" + uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode() \
            + content + f"\r\n--{boundary}--\r\n".encode()
        return self.request("POST", "/api/files/local", raw=body,
                            ctype=f"multipart/form-data; boundary={boundary}")[0]

    def octo_state(self):
        status, data = self.request("GET", "/api/printer?exclude=temperature,sd")
        return (data or {}).get("state", {}).get("text") if status == 200 else f"HTTP {status}"

    def file_exists(self, path):
        return self.request("GET", "/api/files/local/" + path)[0] == 200


_PROBE = '''import atexit, json, sys, threading
def _prusaconnect_probe():
    m = sys.modules.get("octoprint_prusaconnect")
    b = getattr(getattr(m, "__plugin_implementation__", None), "bridge", None)
    info = {"bridge": b is not None}
    if b is not None:
        info.update(stopping=b._stopping.is_set(),
                    thread_alive=bool(b._thread and b._thread.is_alive()),
                    printer_closed=b.printer is None)
    info["threads"] = [t.name for t in threading.enumerate()]
    with open("@OUT@", "w") as f:
        json.dump(info, f)
atexit.register(_prusaconnect_probe)
'''


def _chown_tree(path, user):
    if os.geteuid() != 0:
        return
    for dirpath, _, filenames in os.walk(path):
        shutil.chown(dirpath, user, user)
        for n in filenames:
            shutil.chown(os.path.join(dirpath, n), user, user)


def _grep_problems(text):
    """ERROR lines and tracebacks that mention the plugin or its library."""
    stamp = re.compile(r"^(\x1b\[[0-9;]*m)?\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
    out = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if " - ERROR - " in line or " - CRITICAL - " in line or (
                line.startswith("Traceback") and (i == 0 or stamp.match(lines[i - 1]) is None
                                                  or " - ERROR - " not in lines[i - 1])):
            block = [line]  # the message and its traceback: up to the next log line
            for nxt in lines[i + 1:]:
                if stamp.match(nxt):
                    break
                block.append(nxt)
            block = "\n".join(block)
            if re.search(r"prusaconnect|connect-printer|Prusa Connect", block, re.I):
                out.append(block)
    return out


# ---------------------------------------------------------------- scenarios
class Run:
    def __init__(self, octo, emu):
        self.octo = octo
        self.emu = emu
        self.token = None
        self.code = None

    def result(self, cid, timeout=30):
        return self.emu.wait_result(FP, cid, timeout)

    def command(self, command, kwargs=None, expect=None, label=None):
        cid = self.emu.queue(FP, command, kwargs)
        res = self.result(cid) or {}
        body = res.get("body") or {}
        reason = (body.get("data") or {}).get("reason") or body.get("reason")
        log(f"{label or command} {json.dumps(kwargs) if kwargs else ''} -> {res.get('event')}"
            f"{' (' + reason + ')' if reason else ''}; OctoPrint: {self.octo.octo_state()}")
        if expect is not None:
            check(res.get("event") == expect, f"{label or command}: {expect}")
        return res

    def last_state(self):
        events = self.emu.events(FP, "STATE_CHANGED")
        return events[-1]["state"] if events else None

    def wait_connect_state(self, state, timeout=20):
        return wait_for(lambda: self.last_state() == state, timeout, 0.1)

    # 1
    def first_start(self):
        took = self.octo.start()
        log(f"OctoPrint answered /api/version {took:.1f} s after the start")
        text = self.octo.log_text()
        m = re.search(r"^(\S+ \S+) - octoprint.startup - INFO - Starting OctoPrint", text, re.M)
        n = re.search(r"^(\S+ \S+) - octoprint.server - INFO - Listening on", text, re.M)
        if m and n:
            log(f"log: 'Starting OctoPrint' {m.group(1)} -> 'Listening on' {n.group(1)}")
        check("Prusa Connect (0.1.0)" in text, "the plugin is loaded")
        check(took < 60, "OctoPrint serves within 60 s")
        check(wait_for(lambda: self.octo.request("GET", "/api/connection")[1]["current"]["state"]
                       == "Operational", 30), "the virtual printer is connected")
        check(wait_for(lambda: f"serial number {UUID} (from m115-uuid)" in self.octo.log_text(), 30),
              "the M115 UUID is the serial number (log)")
        status = wait_for(lambda: (lambda s: s if s.get("state") == "waiting" else None)(
            self.octo.status()), 30)
        check(status, "plugin state: waiting")
        self.code = status["code"]
        log(f"code {self.code}, url {status.get('url')}")
        check(status.get("serial_number") == UUID, "status serial number is the UUID")
        check(status.get("url", "").endswith("/" + self.code), "the add-printer link ends in the code")
        check((status.get("qr") or "").find("<svg") >= 0, "a QR code (SVG) is in the status")
        codes = [c for c in self.emu.codes() if c["code"] == self.code]
        check(codes and codes[0]["sn"] == UUID and codes[0]["fingerprint"] == FP,
              "the emulator has the code for that serial number and fingerprint")
        check(f"type the code {self.code}" in self.octo.log_text(), "the code is in octoprint.log")

    # 2
    def approve(self):
        self.token = self.emu.approve(self.code)
        check(wait_for(lambda: self.octo.status().get("state") == "registered", 20),
              "plugin state: registered")
        check(wait_for(lambda: self.octo.plugin_setting("token") == self.token, 10),
              "config.yaml plugins.prusaconnect.token is the approved token")
        check(self.emu.wait_state(FP, "IDLE", 20), "Connect sees the printer IDLE")
        check(wait_for(lambda: self.emu.telemetry(FP).get("temp_nozzle") is not None, 10),
              "telemetry with temperatures arrives")

    # 3
    def commands(self):
        slow = b"; e2e slow print\nG28\n" + b"".join(
            b"G4 P200\nG1 X%d F3000\n" % (i % 100) for i in range(150)) + b"M84\n"
        check(self.octo.upload("slow.gcode", slow) == 201, "uploaded slow.gcode")
        check(self.octo.upload("quick.gcode", b"G28\nG1 X10\nM84\n") == 201,
              "uploaded quick.gcode")
        self.command("START_PRINT", {"path": "/local/slow.gcode"}, "FINISHED")
        check(self.emu.wait_state(FP, "PRINTING", 20), "Connect: PRINTING")
        self.command("START_PRINT", {"path": "/local/quick.gcode"}, "REJECTED",
                     "START_PRINT while printing")
        res = self.command("SEND_JOB_INFO", expect="JOB_INFO")
        check(((res.get("body") or {}).get("data") or {}).get("path") == "/local/slow.gcode",
              "JOB_INFO names the printed file")
        self.command("DELETE_FILE", {"path": "/local/slow.gcode"}, "FAILED",
                     "DELETE_FILE of the printed file")
        self.command("PAUSE_PRINT", expect="FINISHED")
        check(self.wait_connect_state("PAUSED"), "Connect: PAUSED")
        # Connect hears PAUSED already while OctoPrint is "Pausing", but the
        # plugin rejects RESUME_PRINT until OctoPrint is "Paused" (reported)
        check(wait_for(lambda: self.octo.octo_state() == "Paused", 20), "OctoPrint: Paused")
        self.command("RESUME_PRINT", expect="FINISHED")
        check(self.wait_connect_state("PRINTING"), "Connect: PRINTING again")
        self.command("STOP_PRINT", expect="FINISHED")
        check(self.wait_connect_state("STOPPED"), "Connect: STOPPED")
        check(wait_for(lambda: self.octo.octo_state() == "Operational", 20),
              "OctoPrint: Operational")
        self.command("STOP_PRINT", expect="REJECTED", label="STOP_PRINT when idle")
        self.command("START_PRINT", {"path": "/local/nope.gcode"}, "FAILED",
                     "START_PRINT of a missing file")
        self.command("GCODE", {"gcode": "M105"}, "FINISHED")
        res = self.command("SEND_INFO", expect="INFO")
        tree = json.dumps((res.get("body") or {}).get("data", {}).get("files"))
        check("slow.gcode" in tree and "quick.gcode" in tree, "SEND_INFO lists OctoPrint's uploads")
        self.command("CREATE_FOLDER", {"path": "/local/e2e/deeper"}, "FINISHED")
        check(self.octo.request("GET", "/api/files/local/e2e")[0] == 200,
              "OctoPrint has the new folder")
        self.command("DELETE_FILE", {"path": "/local/quick.gcode"}, "FINISHED")
        check(not self.octo.file_exists("quick.gcode"), "quick.gcode is gone from OctoPrint")
        # a download from a local web server
        www = os.path.join(self.octo.root, "www")
        os.makedirs(www, exist_ok=True)
        with open(os.path.join(www, "web.gcode"), "wb") as f:
            f.write(b"; downloaded\nG28\nG1 X5\nM84\n")

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Quiet, directory=www))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/web.gcode"
            res = self.command("START_URL_DOWNLOAD", {"url": url, "path": "/local/dl/web.gcode",
                                                      "printing": False, "selecting": False})
            check(res.get("event") not in (None, "REJECTED", "FAILED"),
                  "START_URL_DOWNLOAD accepted")
            done = self.emu.wait_event(FP, "TRANSFER_FINISHED", timeout=30)
            check(done, "TRANSFER_FINISHED")
            check(wait_for(lambda: self.octo.file_exists("dl/web.gcode"), 20),
                  "OctoPrint has dl/web.gcode")
        finally:
            server.shutdown()
            server.server_close()

    # 5
    def api_and_reset(self):
        status, _ = self.octo.request("POST", "/api/plugin/prusaconnect", {"command": "reset"},
                                      key=USER_KEY)
        check(status == 403, f"reset with the user's key is refused (HTTP {status})")
        status, _ = self.octo.request("POST", "/api/plugin/prusaconnect", {"command": "reset"},
                                      key=None)
        check(status in (401, 403), f"reset without a key is refused (HTTP {status})")
        check(self.octo.plugin_setting("token") == self.token, "the token is still there")
        for who, key in (("user", USER_KEY), ("admin", ADMIN_KEY), ("anonymous", None)):
            status, data = self.octo.request("GET", "/api/settings", key=key)
            text = json.dumps(data, ensure_ascii=False)
            allowed = (200,) if key else (200, 401, 403)  # 1.10 refuses anonymous reads
            check(status in allowed and self.token not in text,
                  f"GET /api/settings as {who} (HTTP {status}) does not contain the token")
            shown = ((data or {}).get("plugins", {}).get("prusaconnect") or {}).get("token")
            log(f"token as {who} sees it: {shown!r}")
        status, data = self.octo.request("POST", "/api/plugin/prusaconnect", {"command": "reset"})
        check(status == 200, "reset with the admin's key: 200")
        # The registration code is for administrators: whoever has it can
        # add the printer to their own Connect account.
        waiting = wait_for(lambda: self.octo.status().get("state") == "waiting", 20)
        check(waiting, "waiting for a new code")
        status, anon = self.octo.request("GET", "/api/plugin/prusaconnect", key=None)
        check(status in (401, 403), f"the status without a key is refused (HTTP {status})")
        status, seen = self.octo.request("GET", "/api/plugin/prusaconnect", key=USER_KEY)
        check(status == 200 and "code" not in (seen or {}) and "server" not in (seen or {}),
              f"a non-admin sees the state, not the code (HTTP {status}: {seen})")
        status = wait_for(lambda: (lambda s: s if s.get("state") == "waiting"
                                   and s.get("code") != self.code else None)(self.octo.status()),
                          20)
        check(status, "plugin state: waiting, with a new code")
        log(f"new code {status['code']}")
        check(not self.octo.plugin_setting("token"), "config.yaml has no token")
        check(any(c["code"] == status["code"] and c["state"] == "pending"
                  for c in self.emu.codes()), "the emulator has the new code pending")
        check(self.octo.plugin_setting("serial_number") == UUID, "the serial number is kept")

    # 6
    def shutdown(self):
        took = self.octo.stop()
        check(took is not None, "OctoPrint exited after SIGTERM")
        log(f"OctoPrint exited {took:.1f} s after SIGTERM, exit status {self.octo.proc.returncode}")
        check(took < 10, "within 10 s")
        probe = os.path.join(self.octo.base, "shutdown-probe.json")
        try:
            with open(probe) as f:
                info = json.load(f)
        except (OSError, ValueError):
            info = {}
        log(f"at exit: {info}")
        check(info.get("stopping") and info.get("thread_alive") is False
              and info.get("printer_closed"), "on_shutdown stopped the plugin's thread and printer")


def main():
    for path in (EMULATOR, os.path.join(BUILD, "python", "prusaconnect")):
        if not os.path.exists(path):
            print(f"FAIL setup: {path} is missing (build first)")
            return 2
    if OCTOPRINT_SOURCE:
        version = "?"
        try:  # versioneer: the tag the tree was exported from
            with open(os.path.join(OCTOPRINT_SOURCE, "src", "octoprint", "_version.py")) as f:
                m = re.search(r"git_refnames = \"[^\"]*tag: ([0-9][^,)\"]*)", f.read())
                version = m.group(1) if m else version
        except OSError:
            pass
        print(f"OctoPrint source tree: {OCTOPRINT_SOURCE} (version {version})")
    root = tempfile.mkdtemp(prefix="pc-e2e-octoprint-")
    print(f"work directory: {root}")
    results = []
    emu = octo = None
    try:
        emu = Emulator(EMULATOR)
        print(f"emulator: {emu.url}")
        octo = OctoPrint(root, emu.url)
        octo.install()
        print(f"OctoPrint: {octo.url} as {OCTO_USER}, site {OCTO_SITE}")
        run = Run(octo, emu)
        scenarios = [("1 first start: UUID, registration code", run.first_start),
                     ("2 approval: token stored, registered", run.approve),
                     ("3 Connect's commands", run.commands),
                     ("5 API permissions, token masking, reset", run.api_and_reset),
                     ("6 shutdown", run.shutdown)]
        blocked = False
        for name, fn in scenarios:
            print(f"--- scenario {name}", flush=True)
            if blocked and not name.startswith("6"):
                print(f"SKIP {name} (an earlier scenario failed)")
                results.append((name, False))
                continue
            try:
                fn()
                results.append((name, True))
                print(f"PASS {name}", flush=True)
            except Exception as err:  # pylint: disable=broad-except
                results.append((name, False))
                print(f"FAIL {name}: {err}", flush=True)
                if not isinstance(err, Failed):
                    traceback.print_exc()
                blocked = blocked or name[0] in "12"
        problems = _grep_problems(octo.log_text()) + _grep_problems(octo.out_text())
        print("--- octoprint.log / stdout: ERROR or traceback about the plugin")
        for p in problems:
            print(p)
            print("-" * 20)
        results.append(("log free of plugin errors", not problems))
        print(("PASS" if not problems else "FAIL") + " log free of plugin errors")
    except Exception:  # pylint: disable=broad-except
        traceback.print_exc()
        results.append(("setup", False))
    finally:
        if octo is not None:
            octo.stop()
        if emu is not None:
            emu.stop()
        if os.environ.get("E2E_KEEP") == "1" or not all(ok for _, ok in results):
            print(f"kept {root} (octoprint.out, base/logs/octoprint.log)")
        else:
            shutil.rmtree(root, ignore_errors=True)
    failed = [name for name, ok in results if not ok]
    print(f"=== {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
