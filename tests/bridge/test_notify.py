"""Notifications from the bridge (docs/notifications.md): Telegram's Bot API
and webhooks, against fake receivers on loopback (fake_notify.py), with the
bridge driving virtual and fake-Moonraker printers through the emulator."""
import base64
import hashlib
import hmac
import urllib.request

import pytest

from conftest import wait_for
from fake_notify import FakeNotify


@pytest.fixture
def receiver():
    r = FakeNotify().start()
    yield r
    r.stop()


def virtual(name, **kw):
    p = {"name": name, "host": "virtual", "idle_interval_ms": 300, "printing_interval_ms": 200}
    p.update(kw)
    return p


def telegram(receiver, **kw):
    n = {"name": "phone", "kind": "telegram", "bot_token": receiver.bot_token, "chat_id": "4242",
         "api_url": receiver.url}
    n.update(kw)
    return n


def one_printer(bridges, emulator, notify):
    """A bridge with one virtual printer "mk3" (1 s jobs) notifying `notify`,
    online and IDLE. Returns (bridge, fingerprint)."""
    b = bridges([virtual("mk3", job_seconds=1)], notify=notify)
    fp = b.provision("mk3")
    b.start()
    assert emulator.wait_state(fp, "IDLE")
    return b, fp


def print_once(emulator, fp):
    cid = emulator.queue(fp, "START_PRINT", {"path": "/local/benchy.gcode"})
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"


def metrics(b):
    with urllib.request.urlopen(b.api_url() + "metrics", timeout=10) as r:
        return r.read().decode()


def test_telegram_follows_a_print(bridges, emulator, receiver):
    b = bridges([virtual("mk3", job_seconds=3), virtual("other")],
                notify=[telegram(receiver, message_thread_id=7, progress_every=25,
                                 printers=["mk3"])])
    fp = b.provision("mk3")
    fp2 = b.provision("other")
    b.start()
    assert b.wait_log("notifications: 1 channel(s)")
    assert emulator.wait_state(fp, "IDLE") and emulator.wait_state(fp2, "IDLE")
    print_once(emulator, fp)
    assert wait_for(lambda: "mk3: finished benchy.gcode" in receiver.texts(), timeout=30), \
        (receiver.texts(), b.stderr()[-2000:])
    texts = receiver.texts()
    assert texts[0] == "mk3: started benchy.gcode"
    # One message per 25 % step crossed, with the progress reached.
    progress = [int(t.split(" %")[0].rsplit(" ", 1)[1]) for t in texts if " %" in t]
    assert [p // 25 for p in progress] == [1, 2, 3], texts
    assert texts[-1] == "mk3: finished benchy.gcode"
    # Nothing about the other printer, nothing twice, and no start/idle noise.
    assert not any("other" in t for t in texts)
    assert len(texts) == len(set(texts)) == 5, texts
    for m in receiver.messages("telegram"):
        assert m["fields"]["chat_id"] == "4242"
        assert m["fields"]["message_thread_id"] == 7
        assert m["method"] == "sendMessage"  # no camera: no photo
    assert receiver.bot_token not in b.stderr()
    assert receiver.bot_token not in metrics(b)
    assert 'prusaconnect_bridge_notifications_sent_total{channel="phone"} 5' in metrics(b)


def test_telegram_429_retry_after_is_honoured(bridges, emulator, receiver):
    b, fp = one_printer(bridges, emulator,
                        [telegram(receiver, progress_every=0, final_photo=False)])
    receiver.fail_next(429, {"ok": False, "error_code": 429,
                             "description": "Too Many Requests: retry after 2",
                             "parameters": {"retry_after": 2}})
    print_once(emulator, fp)
    assert wait_for(lambda: "mk3: started benchy.gcode" in receiver.texts(), timeout=30)
    refused = [a for a in receiver.attempts if a[1] == 429][0]
    accepted = [m for m in receiver.messages() if m["fields"]["text"] ==
                "mk3: started benchy.gcode"][0]
    assert accepted["time"] - refused[2] >= 1.9  # waited as asked
    assert b.wait_log("notifications to phone fail: HTTP 429: Too Many Requests: retry after 2;"
                      " retrying")
    assert b.wait_log("notifications to phone work again")
    m = metrics(b)
    assert 'prusaconnect_bridge_notifications_failed_total{channel="phone"} 1' in m
    assert 'prusaconnect_bridge_notifications_dropped_total{channel="phone"} 0' in m


def test_server_errors_are_retried_and_refusals_are_not(bridges, emulator, receiver):
    b, fp = one_printer(bridges, emulator,
                        [telegram(receiver, progress_every=0, final_photo=False)])
    receiver.fail_next(502, count=2)
    print_once(emulator, fp)
    assert wait_for(lambda: "mk3: started benchy.gcode" in receiver.texts(), timeout=30)
    assert [a[1] for a in receiver.attempts[:3]] == [502, 502, 200]
    # A refusal (a chat the bot is not in) is not retried; the stream of
    # failures is logged once.
    assert wait_for(lambda: "mk3: finished benchy.gcode" in receiver.texts(), timeout=30)
    before = len(receiver.attempts)
    receiver.fail_next(400, {"ok": False, "error_code": 400,
                             "description": "Bad Request: chat not found"}, count=5)
    print_once(emulator, fp)
    assert b.wait_log("notifications to phone fail: HTTP 400: Bad Request: chat not found "
                      "(not retried)")
    assert wait_for(lambda: 'prusaconnect_bridge_notifications_dropped_total{channel="phone"} 2'
                    in metrics(b), timeout=30), metrics(b)
    assert len(receiver.attempts) - before == 2  # started + finished, once each
    assert b.stderr().count("notifications to phone fail") == 2  # the 502s, then the 400s


def test_webhook_signed_json(bridges, emulator, receiver):
    secret = "hook-secret"
    b, fp = one_printer(bridges, emulator,
                        [{"name": "hook", "kind": "webhook", "url": receiver.url + "/hook",
                          "secret": secret, "progress_every": 0}])
    print_once(emulator, fp)
    assert wait_for(lambda: len(receiver.messages("webhook")) >= 2, timeout=30)
    started, finished = receiver.messages("webhook")[:2]
    for m in (started, finished):
        sig = "sha256=" + hmac.new(secret.encode(), m["raw"], hashlib.sha256).hexdigest()
        assert m["headers"]["X-PrusaConnect-Signature"] == sig
        assert m["headers"]["Content-Type"] == "application/json"
    assert started["headers"]["X-PrusaConnect-Event"] == "job_started"
    assert started["fields"]["event"] == "job_started"
    assert started["fields"]["printer"] == "mk3"
    assert started["fields"]["job"]["file"] == "benchy.gcode"
    assert started["fields"]["text"] == "mk3: started benchy.gcode"
    assert finished["fields"]["event"] == "job_finished"
    assert finished["fields"]["state"] == "FINISHED"
    assert "image" not in finished["fields"]  # no camera
    assert secret not in b.stderr()


def test_final_photo_from_the_printers_camera(bridges, emulator, receiver, moonraker):
    fake = moonraker(advance_per_second=0)
    fake.add_file("benchy.gcode", b"G28\n" * 50, estimated_time=600)
    fake.add_webcam("nozzle cam")
    b = bridges([{"name": "voron", "host": "moonraker", "url": fake.url,
                  "idle_interval_ms": 300, "printing_interval_ms": 200}],
                notify=[telegram(receiver, progress_every=0),
                        {"name": "hook", "kind": "webhook", "url": receiver.url + "/hook",
                         "progress_every": 0}])
    fp = b.provision("voron")
    b.start()
    assert emulator.wait_state(fp, "IDLE")
    assert b.wait_log("is Connect camera")
    print_once(emulator, fp)
    assert emulator.wait_state(fp, "PRINTING")
    served = fake.snapshots_served
    fake.finish()
    assert wait_for(lambda: any(m["method"] == "sendPhoto"
                                for m in receiver.messages("telegram")), timeout=30), \
        (receiver.texts(), b.stderr()[-2000:])
    photo = [m for m in receiver.messages("telegram") if m["method"] == "sendPhoto"][0]
    assert photo["fields"]["caption"] == "voron: finished benchy.gcode"
    assert photo["fields"]["chat_id"] == "4242"
    assert photo["photo"]["type"] == "image/jpeg" and photo["photo"]["data"][:2] == b"\xff\xd8"
    assert fake.snapshots_served > served  # a fresh picture was taken for it
    hook = wait_for(lambda: [m for m in receiver.messages("webhook")
                             if m["fields"]["event"] == "job_finished"])
    assert hook
    image = hook[0]["fields"]["image"]
    assert image["content_type"] == "image/jpeg"
    assert base64.b64decode(image["base64"])[:2] == b"\xff\xd8"


def test_errors_and_a_lost_printer(bridges, emulator, receiver, moonraker):
    fake = moonraker()
    b = bridges([{"name": "voron", "host": "moonraker", "url": fake.url,
                  "idle_interval_ms": 300}], notify=[telegram(receiver)])
    fp = b.provision("voron")
    b.start()
    assert emulator.wait_state(fp, "IDLE")
    fake.shutdown("MCU 'mcu' shutdown: Timer too close")
    assert wait_for(lambda: any("Timer too close" in t for t in receiver.texts()), timeout=30), \
        (receiver.texts(), b.stderr()[-2000:])
    t = [t for t in receiver.texts() if "Timer too close" in t][0]
    assert t.startswith("voron: ATTENTION: ") or t.startswith("voron: ERROR: ")
    fake.klippy_restart()
    assert emulator.wait_state(fp, "IDLE", timeout=30)
    fake.stop()
    assert wait_for(lambda: any(t.startswith("voron: lost (Moonraker unreachable at ")
                                for t in receiver.texts()), timeout=40), receiver.texts()
    fake.start()
    assert wait_for(lambda: "voron: its host answers again" in receiver.texts(), timeout=60), \
        receiver.texts()


def test_reload_changes_channels(bridges, emulator, receiver):
    b, fp = one_printer(bridges, emulator, [])
    print_once(emulator, fp)
    assert emulator.wait_state(fp, "FINISHED")
    assert receiver.messages() == []
    b.notify = [telegram(receiver, progress_every=0)]
    b.write([virtual("mk3", job_seconds=1)])
    b.reload()
    assert b.wait_log("reload: notifications: 1 channel(s)")
    print_once(emulator, fp)
    assert wait_for(lambda: "mk3: finished benchy.gcode" in receiver.texts(), timeout=30)


def test_bad_channels_are_left_out_with_the_reason(bridges):
    b = bridges([virtual("mk3")], notify=[
        {"kind": "telegram", "chat_id": "1"},
        {"kind": "webhook", "url": "ftp://x"},
        {"kind": "pager"},
        {"kind": "webhook", "url": "http://127.0.0.1:9/h", "progress_every": 200},
        {"kind": "webhook", "url": "http://127.0.0.1:9/h", "printers": "mk3"}])
    r = b.run("status")
    out = r.stdout
    assert "notify.bot_token: missing: the token @BotFather gave the bot" in out, out
    assert "notify.url: must start with https:// or http://" in out
    assert 'notify.kind: must be telegram or webhook, not "pager"' in out
    assert "notify.progress_every: must be between 0 and 100, not 200" in out
    assert "notify.printers: must be a list of strings" in out
    assert sum(1 for line in out.splitlines() if line.startswith("left out: ")) == 5


def test_pause_resume_and_periodic_photos(bridges, emulator, receiver, moonraker):
    fake = moonraker(advance_per_second=0)
    fake.add_file("benchy.gcode", b"G28\n" * 50, estimated_time=600)
    fake.add_webcam("nozzle cam")
    b = bridges([{"name": "voron", "host": "moonraker", "url": fake.url,
                  "idle_interval_ms": 300, "printing_interval_ms": 200}],
                notify=[telegram(receiver, progress_every=0, final_photo=False,
                                 photo_every_minutes=0.05)])  # every 3 s
    fp = b.provision("voron")
    b.start()
    assert emulator.wait_state(fp, "IDLE")
    assert b.wait_log("is Connect camera")
    print_once(emulator, fp)
    assert emulator.wait_state(fp, "PRINTING")

    def photos():
        return [m for m in receiver.messages("telegram") if m["method"] == "sendPhoto"]
    assert wait_for(lambda: len(photos()) >= 2, timeout=30), (receiver.texts(),
                                                               b.stderr()[-2000:])
    first, second = photos()[:2]
    assert first["fields"]["caption"].startswith("voron: benchy.gcode")
    assert first["photo"]["data"][:2] == b"\xff\xd8"
    assert second["time"] - first["time"] >= 2.5
    cid = emulator.queue(fp, "PAUSE_PRINT")
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    assert wait_for(lambda: "voron: PAUSED" in receiver.texts(), timeout=30), receiver.texts()
    cid = emulator.queue(fp, "RESUME_PRINT")
    assert emulator.wait_result(fp, cid)["event"] == "FINISHED"
    assert wait_for(lambda: "voron: PRINTING (resumed)" in receiver.texts(), timeout=30), \
        receiver.texts()
