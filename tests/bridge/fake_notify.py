"""Fake notification receivers on loopback: Telegram's Bot API (the
sendMessage and sendPhoto methods, with the answers and error shapes of
https://core.telegram.org/bots/api — {"ok": true, "result": Message} or
{"ok": false, "error_code": N, "description": "...", "parameters":
{"retry_after": S}}) and a webhook receiver. Scripted failures answer the
next requests with a given status."""
import email.parser
import email.policy
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeNotify:
    def __init__(self, bot_token="123456:TEST-token"):
        self.bot_token = bot_token
        self.lock = threading.Lock()
        self.received = []   # accepted: dicts with kind, method, fields, photo, headers, time
        self.attempts = []   # every request: (path kind, status, time)
        self.failures = []   # (status, body dict, headers) answered next, in order
        self.message_id = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self, status, body, headers=None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                now = time.time()
                if self.path.startswith("/bot"):
                    token, _, method = self.path[4:].partition("/")
                    kind = "telegram"
                else:
                    token, method, kind = None, self.path, "webhook"
                with fake.lock:
                    failure = fake.failures.pop(0) if fake.failures else None
                if failure:
                    status, body, headers = failure
                    with fake.lock:
                        fake.attempts.append((kind, status, now))
                    return self._answer(status, body, headers)
                if kind == "telegram" and token != fake.bot_token:
                    with fake.lock:
                        fake.attempts.append((kind, 401, now))
                    return self._answer(401, {"ok": False, "error_code": 401,
                                              "description": "Unauthorized"})
                fields, photo = {}, None
                ctype = self.headers.get("Content-Type", "")
                if ctype.startswith("application/json"):
                    fields = json.loads(raw)
                elif ctype.startswith("multipart/form-data"):
                    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
                    for part in msg.iter_parts():
                        name = part.get_param("name", header="content-disposition")
                        payload = part.get_payload(decode=True)
                        if part.get_filename():
                            photo = {"filename": part.get_filename(),
                                     "type": part.get_content_type(), "data": payload}
                        else:
                            fields[name] = payload.decode()
                if kind == "telegram" and method not in ("sendMessage", "sendPhoto"):
                    return self._answer(404, {"ok": False, "error_code": 404,
                                              "description": "Not Found"})
                if kind == "telegram" and not fields.get("chat_id"):
                    return self._answer(400, {"ok": False, "error_code": 400,
                                              "description": "Bad Request: chat_id is empty"})
                with fake.lock:
                    fake.attempts.append((kind, 200, now))
                    fake.message_id += 1
                    fake.received.append({"kind": kind, "method": method, "fields": fields,
                                          "photo": photo, "raw": raw,
                                          "headers": dict(self.headers), "time": now})
                    mid = fake.message_id
                if kind == "webhook":
                    return self._answer(200, {"ok": True})
                result = {"message_id": mid, "date": int(now),
                          "chat": {"id": fields.get("chat_id"), "type": "private"}}
                if method == "sendMessage":
                    result["text"] = fields.get("text")
                else:
                    result["caption"] = fields.get("caption")
                    result["photo"] = [{"file_id": "f1", "width": 1, "height": 1}]
                return self._answer(200, {"ok": True, "result": result})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail_next(self, status, body=None, headers=None, count=1):
        with self.lock:
            for _ in range(count):
                self.failures.append((status, body or {"ok": False, "error_code": status},
                                      headers or {}))

    def messages(self, kind=None):
        with self.lock:
            return [m for m in self.received if kind is None or m["kind"] == kind]

    def texts(self):
        return [m["fields"].get("text") or m["fields"].get("caption")
                for m in self.messages("telegram")]
