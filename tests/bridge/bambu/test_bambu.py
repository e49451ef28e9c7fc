"""The Bambu Lab driver through the bridge, with real parts: a real
mosquitto broker with TLS and a password file and a real ProFTPD with
implicit TLS over the SD card (local_servers.py), a fake Bambu printer on
the broker mirroring the printer's messages (fake_bambu.py), and the
Connect emulator."""
import json
import os
import time
import urllib.request
import zipfile

import pytest

from conftest import WAIT, wait_for
from fake_bambu import BambuFleet
from local_servers import FtpsServer, Mosquitto, cert_sha256, make_certs, missing_tools

SERIAL = "01P00A000000001"
CODE = "12345678"

pytestmark = pytest.mark.skipif(bool(missing_tools()), reason=f"missing: {missing_tools()}")


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    return make_certs(str(tmp_path_factory.mktemp("certs")), cn=SERIAL)


class Lab:
    """One printer's worth of real servers: the broker, the SD card's FTPS
    server, and the fake printers on the broker."""

    def __init__(self, root, certs):
        self.root = root
        self.certs = certs
        self.sd = os.path.join(root, "sdcard")
        os.makedirs(self.sd)
        self.broker = Mosquitto(root, certs, users={"bblp": CODE, "printer": "fake-pw"}).start()
        self.ftps = FtpsServer(root, certs, root=self.sd, user="bblp", password=CODE).start()
        self.fleet = BambuFleet("127.0.0.1", self.broker.port, certs.ca, "printer", "fake-pw")

    def printer(self, serial=SERIAL, **kw):
        p = self.fleet.add(serial, sd_root=self.sd)
        for k, v in kw.items():
            setattr(p, k, v)
        return p

    def entry(self, name, serial=SERIAL, **kw):
        e = {"name": name, "host": "bambu", "address": "127.0.0.1", "serial": serial,
             "access_code": CODE, "mqtt_port": self.broker.port, "ftps_port": self.ftps.port,
             "idle_interval_ms": 300, "printing_interval_ms": 200, "command_timeout_s": 3}
        e.update(kw)
        return e

    def put(self, rel, data=b"G28\n"):
        path = os.path.join(self.sd, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def stop(self):
        self.fleet.stop()
        self.ftps.stop()
        self.broker.stop()


@pytest.fixture
def lab(tmp_path, certs):
    lab = Lab(str(tmp_path), certs)
    yield lab
    lab.stop()


@pytest.fixture
def online(lab, bridges, emulator):
    """A bridge with one Bambu P1S, online and IDLE, its SD card attached."""
    fake = lab.printer(print_seconds=4, prepare_seconds=0.5)
    lab.put("benchy.3mf", _project())
    lab.put("parts/clip.gcode", b"G28\nG1 X10\n")
    b = bridges([lab.entry("p1s")])
    fp = b.provision("p1s")
    b.start()
    assert emulator.wait_state(fp, "IDLE"), b.stderr()[-3000:]
    assert b.wait_log("[p1s] connected to Bambu Lab P1S " + SERIAL)
    # The SD card is listed over FTPS a moment after the first report.
    assert wait_for(lambda: "benchy.3mf" in json.dumps(
        emulator.wait_result(fp, emulator.queue(fp, "SEND_INFO"))["body"]["data"].get("files")),
        interval=0.5), b.stderr()[-3000:]
    return b, fake, fp


def _project(plate=1):
    """A sliced .3mf: a zip with Metadata/plate_N.gcode."""
    import io
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"Metadata/plate_{plate}.gcode", "G28\nG1 X10\n" * 20)
        z.writestr("3D/3dmodel.model", "<model/>")
    return buf.getvalue()


def _wait_reason(emulator, fp, state, text, timeout=WAIT):
    """The first STATE_CHANGED to `state` whose reason has `text`."""
    return emulator.wait_event(fp, "STATE_CHANGED", timeout=timeout, pred=lambda e: e[
        "state"] == state and text in (e["body"].get("reason") or ""))


def _get_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def test_online_reports_model_state_and_telemetry(online, emulator, lab):
    b, fake, fp = online
    # pushall and get_version after connecting, with string sequence ids.
    push = fake.wait_request(lambda r: r.get("pushing", {}).get("command") == "pushall")
    assert push["pushing"]["sequence_id"].isdigit()
    ver = fake.wait_request(lambda r: r.get("info", {}).get("command") == "get_version")
    assert ver["info"]["sequence_id"].isdigit()
    # Temperatures with targets, fans (0-15 -> percent), speed.
    fake.set(nozzle_temper=201.26, nozzle_target_temper=220.0, bed_temper=59.94,
             bed_target_temper=60.0, cooling_fan_speed="15", spd_mag=124, spd_lvl=3)
    # (The fake heats toward the targets: the temperatures move on.)
    t = wait_for(lambda: (lambda x: x if x.get("target_nozzle") == 220.0 else None)(
        emulator.telemetry(fp)))
    assert t, emulator.telemetry(fp)
    assert 195 <= t["temp_nozzle"] <= 221 and 55 <= t["temp_bed"] <= 61
    assert t["target_bed"] == 60.0
    assert t["speed"] == 124 and t["fan_print_percent"] == 100 and t["speed_level"] == "sport"
    # The model in SEND_INFO and in the status API; the firmware from get_version.
    r = emulator.wait_result(fp, emulator.queue(fp, "SEND_INFO"))
    data = r["body"]["data"]
    assert data["host"] == {"kind": "bambu", "model": "Bambu Lab P1S", "serial": SERIAL}
    assert wait_for(lambda: b.wait_log("[p1s] firmware "))
    p = _get_json(b.api_url() + "api/printer/p1s")
    assert p["model"] == "Bambu Lab P1S" and p["host"] == "bambu"
    assert p["host_status"].startswith("Bambu Lab P1S idle")
    # The access code never appears in the log.
    assert CODE not in b.stderr()


def test_certificate_pinned_at_first_connection_and_a_changed_one_refused(lab, bridges, emulator,
                                                                         certs):
    lab.printer()
    b = bridges([lab.entry("p1s")])
    fp = b.provision("p1s")
    b.start()
    assert emulator.wait_state(fp, "IDLE")
    pins = os.path.join(b.state, "p1s", "pinned-certificates")
    assert wait_for(lambda: os.path.exists(pins))
    with open(pins) as f:
        text = f.read()
    assert f"mqtt {cert_sha256(certs.cert)}" in text
    assert os.stat(pins).st_mode & 0o777 == 0o600
    assert b.wait_log("first connection: pinned the printer's mqtt certificate")
    # The printer (or someone on the LAN) presents another certificate.
    mark = len(lab.broker.log())
    lab.broker.stop()
    lab.broker.use_cert(certs.other_cert, certs.other_key)
    lab.broker.start()
    ev = _wait_reason(emulator, fp, "ERROR", "certificate", timeout=45)
    assert ev
    assert b.wait_log("[p1s] the printer's mqtt certificate changed: pinned SHA-256 " +
                      cert_sha256(certs.cert) + ", now " + cert_sha256(certs.other_cert))
    # Refused in the handshake, before the password went out: the broker
    # saw no login since.
    assert "u'bblp'" not in lab.broker.log()[mark:], lab.broker.log()[mark:]
    # Re-pinning as docs/bambu.md says: remove the file, restart the bridge.
    b.stop()
    os.remove(pins)
    b.start()
    # (The fake printer itself trusts only the CA, so it stays away from
    # this broker: the bridge connects, no report comes.)
    assert wait_for(lambda: b.stderr().count("[p1s] connected to Bambu Lab P1S") == 2,
                    timeout=45), b.stderr()[-3000:]
    with open(pins) as f:
        assert f"mqtt {cert_sha256(certs.other_cert)}" in f.read()


def test_ca_file_verifies_the_chain(lab, bridges, emulator, certs):
    lab.printer()
    good = bridges([lab.entry("p1s", ca_file=certs.ca)])
    fp = good.provision("p1s")
    good.start()
    assert emulator.wait_state(fp, "IDLE")
    assert not os.path.exists(os.path.join(good.state, "p1s", "pinned-certificates"))
    good.stop()
    # A CA that did not sign the printer's certificate: refused.
    bad = bridges([lab.entry("p1s", ca_file=certs.other_cert)], root=good.root)
    bad.start()
    assert bad.wait_log("the printer's certificate was refused: the certificate does not verify "
                        "against " + certs.other_cert)


def test_wrong_access_code_is_a_clear_error_without_a_tight_loop(lab, bridges, emulator):
    lab.printer()
    b = bridges([lab.entry("p1s", access_code="87654321")])
    fp = b.provision("p1s")
    b.start()
    ev = _wait_reason(emulator, fp, "ERROR", "the printer refused the access code", timeout=30)
    assert ev, b.stderr()[-2000:]
    assert b.wait_log("check access_code")
    assert b.wait_log("retrying in 60 s")
    # One attempt, not a loop: a few seconds later still one refusal.
    time.sleep(3)
    assert b.stderr().count("retrying in 60 s") == 1
    assert "87654321" not in b.stderr()


def test_print_from_the_sd_card_pause_resume_stop_and_finish(online, emulator, lab):
    b, fake, fp = online
    cid = emulator.queue(fp, "START_PRINT", {"path": "/sdcard/benchy.3mf"})
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    req = fake.wait_request(lambda r: r.get("print", {}).get("command") == "project_file")
    pf = req["print"]
    assert pf["url"] == "file:///sdcard/benchy.3mf" and pf["param"] == "Metadata/plate_1.gcode"
    assert pf["subtask_name"] == "benchy" and pf["use_ams"] is False
    assert isinstance(pf["sequence_id"], str)
    ev = emulator.wait_state(fp, "PRINTING")
    assert ev["source"] == "CONNECT"
    t = wait_for(lambda: (lambda x: x if x.get("progress", 0) > 0 else None)(
        emulator.telemetry(fp)))
    assert t and "time_remaining" in t and t["total_layers"] > 0
    info = emulator.wait_result(fp, emulator.queue(fp, "SEND_JOB_INFO"))
    assert info["event"] == "JOB_INFO" and info["body"]["data"]["path"] == "/sdcard/benchy.3mf"
    for cmd, state in (("PAUSE_PRINT", "PAUSED"), ("RESUME_PRINT", "PRINTING")):
        cid = emulator.queue(fp, cmd)
        assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
        assert emulator.wait_event(fp, "STATE_CHANGED", pred=lambda e, s=state: e["state"] == s)
    cid = emulator.queue(fp, "STOP_PRINT")
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    assert emulator.wait_state(fp, "STOPPED")
    # Ready again, then a plain G-code file prints to the end.
    assert emulator.wait_result(fp, emulator.queue(fp, "SET_PRINTER_READY"))["event"] == \
        "FINISHED"
    cid = emulator.queue(fp, "START_PRINT", {"path": "/sdcard/parts/clip.gcode"})
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    req = fake.wait_request(lambda r: r.get("print", {}).get("command") == "gcode_file")
    assert req["print"]["param"] == "/sdcard/parts/clip.gcode"
    done = emulator.wait_state(fp, "FINISHED", timeout=30)
    assert done
    # Starting while the last job holds FINISHED is allowed; a wrong file is not.
    r = emulator.wait_result(fp, emulator.queue(fp, "START_PRINT", {"path": "/sdcard/a.stl"}))
    assert r["event"] == "REJECTED" and ".3mf projects and .gcode files" in r["body"]["reason"]


def test_refused_and_unanswered_commands(online, emulator):
    b, fake, fp = online
    # Pause when nothing prints: refused by the declared definitions, before
    # the driver (or the printer) is asked.
    r = emulator.wait_result(fp, emulator.queue(fp, "PAUSE_PRINT"))
    assert r["event"] == "REJECTED" and r["body"]["reason"] == (
        "PAUSE_PRINT cannot run while the printer is IDLE (only from PRINTING)")
    # The printer refuses: FAILED with its reason.
    fake.fail_next("gcode_line", "the printer is busy", err_code=0x0500400E)
    r = emulator.wait_result(fp, emulator.queue(fp, "GCODE", {"gcode": "M104 S200"}))
    assert r["event"] == "FAILED" and "the printer is busy" in r["body"]["reason"], r
    assert "0500_400E" in r["body"]["reason"]
    # A missing file: the printer says so.
    r = emulator.wait_result(fp, emulator.queue(fp, "START_PRINT",
                                                 {"path": "/sdcard/missing.gcode"}))
    assert r["event"] == "FAILED", r
    # No answer at all: FAILED "no answer" after command_timeout_s.
    fake.silent = True
    r = emulator.wait_result(fp, emulator.queue(fp, "GCODE", {"gcode": "M140 S60"}), timeout=20)
    assert r["event"] == "FAILED" and "no answer from the printer to gcode_line within 3 s" in \
        r["body"]["reason"], r
    fake.silent = False
    # G-code: each line ends in "\n" (the printer drops one without).
    r = emulator.wait_result(fp, emulator.queue(fp, "GCODE", {"gcode": "M104 S200\r\nM140 S60"}))
    assert r["event"] == "FINISHED", r
    req = fake.wait_request(lambda x: x.get("print", {}).get("param") == "M104 S200\nM140 S60\n")
    assert req["print"]["command"] == "gcode_line"
    assert wait_for(lambda: emulator.telemetry(fp).get("target_nozzle") == 200.0)


def test_errors_hms_and_attention(online, emulator):
    b, fake, fp = online
    fake.set_error(print_error=0, hms=[{"attr": 0x03000100, "code": 0x00010007}])
    ev = _wait_reason(emulator, fp, "ERROR", "HMS 0300_0100_0001_0007 (fatal, motion controller)")
    assert ev
    fake.clear_error()
    assert emulator.wait_event(fp, "STATE_CHANGED", pred=lambda e: e["state"] == "IDLE" and
                               e["timestamp"] > ev["timestamp"])
    # The printer pauses itself on a problem: ATTENTION with the code.
    cid = emulator.queue(fp, "START_PRINT", {"path": "/sdcard/parts/clip.gcode"})
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    assert emulator.wait_state(fp, "PRINTING")
    fake.print_seconds = 600
    fake.set_error(print_error=0x07008006, gcode_state="PAUSE")
    assert _wait_reason(emulator, fp, "ATTENTION", "the printer paused: print error 0700_8006")


def test_sd_card_tree_folders_deletes_and_a_download_printed(online, emulator, lab):
    b, fake, fp = online
    r = emulator.wait_result(fp, emulator.queue(fp, "SEND_INFO"))
    files = json.dumps(r["body"]["data"].get("files"))
    assert "benchy.3mf" in files and "clip.gcode" in files, files
    cid = emulator.queue(fp, "CREATE_FOLDER", {"path": "/sdcard/new folder"})
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    assert os.path.isdir(os.path.join(lab.sd, "new folder"))
    cid = emulator.queue(fp, "DELETE_FILE", {"path": "/sdcard/parts/clip.gcode"})
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    assert not os.path.exists(os.path.join(lab.sd, "parts", "clip.gcode"))
    cid = emulator.queue(fp, "DELETE_FOLDER", {"path": "/sdcard/parts"})
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    assert not os.path.exists(os.path.join(lab.sd, "parts"))
    # Outside the card: refused by the library, nothing touched.
    cid = emulator.queue(fp, "DELETE_FILE", {"path": "/sdcard/../benchy.3mf"})
    assert emulator.wait_result(fp, cid)["event"] in ("REJECTED", "FAILED")
    assert os.path.exists(os.path.join(lab.sd, "benchy.3mf"))
    # A download from Connect goes to the card over FTPS, then prints.
    h = f"bambu{os.getpid()}x"
    emulator.api("POST", "/api/files", {"team_id": 7, "hash": h, "size": 3000})
    cid = emulator.queue(fp, "START_CONNECT_DOWNLOAD", {"path": "/sdcard/dl/cube.gcode",
                                                        "team_id": 7, "hash": h,
                                                        "printing": True})
    assert emulator.wait_result(fp, cid)["event"] == "TRANSFER_INFO"
    assert emulator.wait_event(fp, "TRANSFER_FINISHED")
    assert os.path.getsize(os.path.join(lab.sd, "dl", "cube.gcode")) == 3000
    req = fake.wait_request(lambda r: r.get("print", {}).get("command") == "gcode_file",
                            timeout=WAIT)
    assert req["print"]["param"] == "/sdcard/dl/cube.gcode"
    assert emulator.wait_state(fp, "PRINTING")


def test_broker_drop_mid_print_reconnects_and_asks_for_everything_again(online, emulator, lab):
    b, fake, fp = online
    fake.print_seconds = 600
    cid = emulator.queue(fp, "START_PRINT", {"path": "/sdcard/benchy.3mf"})
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    printing = emulator.wait_state(fp, "PRINTING")
    pushalls = sum(1 for r in fake.requests if r.get("pushing", {}).get("command") == "pushall")
    # The printer goes off the network.
    lab.broker.stop()
    ev = _wait_reason(emulator, fp, "ERROR", "is unreachable", timeout=30)
    assert ev and ev["timestamp"] > printing["timestamp"], ev
    lab.broker.start()
    back = emulator.wait_event(fp, "STATE_CHANGED", timeout=60,
                               pred=lambda e: e["state"] == "PRINTING" and
                               e["timestamp"] > ev["timestamp"])
    assert back, b.stderr()[-3000:]
    assert wait_for(lambda: sum(1 for r in fake.requests
                                if r.get("pushing", {}).get("command") == "pushall") > pushalls)
    # The same job goes on.
    assert back["body"].get("job_id") == printing["body"].get("job_id")


def test_malformed_messages_are_ignored_and_counted(online, emulator, lab):
    b, fake, fp = online
    for raw in (b"{not json", b"[1, 2]", b'"text"', b'{"print": "x"}', b"\xff\xfe",
                b'{"print": {"command": "push_status", "gcode_state": 7, "mc_percent": "x",'
                b' "hms": {"attr": 1}, "nozzle_temper": "hot"}}',
                b'{"print": {"command": "push_status", "gcode_state": "IDLE"}}'):
        fake.publish_raw(raw)
    assert b.wait_log("ignored a message that is not a JSON object")
    # Still following: a field the fake does not simulate.
    fake.set(spd_mag=77)
    assert wait_for(lambda: emulator.telemetry(fp).get("speed") == 77)
    p = _get_json(b.api_url() + "api/printer/p1s")
    assert "messages ignored" in p["host_status"], p
    assert b.proc.poll() is None


def test_mixed_with_a_virtual_printer_and_config_errors(lab, bridges, emulator):
    lab.printer()
    b = bridges([lab.entry("p1s"), {"name": "sim", "host": "virtual"},
                 {"name": "nocode", "host": "bambu", "address": "127.0.0.1",
                  "serial": "01P00A000000009"}])
    fp = b.provision("p1s")
    fp2 = b.provision("sim")
    b.start()
    assert emulator.wait_state(fp, "IDLE") and emulator.wait_state(fp2, "IDLE")
    assert b.wait_log("printer.access_code: missing")
    r = b.run("--check")
    assert "access_code" in r.stdout + r.stderr


def test_a_changed_sd_card_certificate_is_refused_before_login(online, emulator, lab, certs):
    b, fake, fp = online
    pins = os.path.join(b.state, "p1s", "pinned-certificates")
    with open(pins) as f:
        assert f"ftps {cert_sha256(certs.cert)}" in f.read()
    lab.ftps.stop()
    lab.ftps.use_cert(certs.other_cert, certs.other_key)
    lab.ftps.start()
    # ProFTPD logs "ROOT FTP login successful" or "USER bblp: Login successful".
    logins = lab.ftps.log().count("ogin successful")
    r = emulator.wait_result(fp, emulator.queue(fp, "CREATE_FOLDER", {"path": "/sdcard/x"}))
    assert r["event"] == "FAILED", r
    assert "is not the pinned one" in r["body"]["reason"], r
    assert not os.path.exists(os.path.join(lab.sd, "x"))
    # No login reached the server with the other certificate.
    assert lab.ftps.log().count("ogin successful") == logins > 0
    assert b.wait_log("the printer's ftps certificate changed: pinned SHA-256 " +
                      cert_sha256(certs.cert))
