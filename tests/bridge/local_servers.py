#!/usr/bin/python3
"""Real Debian servers on loopback for the Bambu Lab driver's tests: a
Mosquitto broker (a Bambu printer's MQTT, TLS only) and ProFTPD (its
implicit-TLS FTPS server over the SD card), with certificates made by the
openssl CLI at test time: a test CA in the place of Bambu's "BBL CA", a
printer certificate it signs with CN = the serial and no IP SAN (as a real
printer's), and an unrelated self-signed one ("the certificate changed").

Everything listens on 127.0.0.1 only, on ports picked outside the kernel's
ephemeral range (so a server stopped for a while gets its port back), and
every file (configs, logs, pid files, scoreboard) lives in the work folder
it is given. Runs as root (CI) or as a normal user, with Debian's
/usr/bin/python3 and the standard library only.

    certs = make_certs(tmp)                     # Certs: ca, cert, key, other_cert, ...
    m = Mosquitto(tmp, certs, users={"bblp": "12345678"}).start()
    f = FtpsServer(tmp, certs, root=sd_dir).start()
    ...
    m.stop(); f.stop()

Self-test (curl, mosquitto_pub/sub against both servers):
    /usr/bin/python3 tests/bridge/local_servers.py --selftest
Both servers for trying a driver by hand, until Ctrl-C:
    /usr/bin/python3 tests/bridge/local_servers.py --serve
"""
import argparse
import atexit
import dataclasses
import errno
import grp
import hashlib
import os
import pwd
import random
import resource
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

# The tests' shared waiting (tests/octoprint/harness.py), also when this file
# runs as a script.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "octoprint"))
from harness import WAIT, wait_for  # noqa: E402

SERIAL = "01P00A000000001"
LOOPBACK = "127.0.0.1"
PROFTPD_MODULES = "/usr/lib/proftpd"

# Every server started and not stopped yet: stopped at exit if a test forgot.
_live = set()


@atexit.register
def _stop_leftovers():
    for server in list(_live):
        try:
            server.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


def find_exe(name):
    """The path of `name`: on PATH, else in the sbin folders a normal user's
    PATH lacks (mosquitto and proftpd are in /usr/sbin)."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")
    if not path:
        raise FileNotFoundError(f"{name} is not installed (see scripts/bootstrap)")
    return path


def missing_tools():
    """The programs these servers need that are not installed (for a skip)."""
    missing = []
    for name in ("openssl", "mosquitto", "mosquitto_passwd", "proftpd"):
        try:
            find_exe(name)
        except FileNotFoundError:
            missing.append(name)
    if not os.path.exists(os.path.join(PROFTPD_MODULES, "mod_tls.so")):
        missing.append("proftpd-mod-crypto")
    return missing


def raise_nofile(want=65536):
    """Raises this process's soft limit of open files towards `want` (at
    most the hard limit); the servers and bridges started after inherit it.
    Returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _subdir(workdir, name):
    path = os.path.join(os.path.abspath(workdir), name)
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def _read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def _write(path, text, mode=0o600):
    """Writes `text` atomically with `mode` (never readable by others)."""
    tmp = path + ".new"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _stop_process(proc, timeout=10.0):
    """SIGTERM, then SIGKILL after `timeout`; returns the exit status."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


# ---------------------------------------------------------------- ports

_ports_lock = threading.Lock()
_ports_taken = set()  # handed out by this process: never handed out twice


def _port_window():
    """Ports to pick from: below the kernel's ephemeral range (outgoing
    connections and port 0 binds take theirs from it, so a port of ours
    stays free while its server is stopped for a while), else above it."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        lo, hi = 32768, 60999
    if lo - 10000 >= 2000:
        return 10000, lo - 1
    if 65535 - hi >= 2000:
        return hi + 1, 65535
    return 1024, 65535


def _bindable(port):
    # Without SO_REUSEADDR: also refuses a port with connections in
    # TIME_WAIT, or bound by anyone on 0.0.0.0.
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((LOOPBACK, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_ports(count=1):
    """`count` consecutive free TCP ports on 127.0.0.1 (the first of them
    when count is 1), reserved for this process's servers."""
    lo, hi = _port_window()
    with _ports_lock:
        for _ in range(2000):
            first = random.randint(lo, hi - count + 1)
            ports = range(first, first + count)
            if any(p in _ports_taken for p in ports):
                continue
            if all(_bindable(p) for p in ports):
                _ports_taken.update(ports)
                return list(ports)
    raise RuntimeError(f"no {count} free consecutive ports in {lo}-{hi}")


def free_port():
    return free_ports(1)[0]


# ---------------------------------------------------------------- certificates

_OPENSSL_CNF = """\
# Written by local_servers.py: the extensions of the test certificates.
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[printer_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[self_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
"""


def cert_sha256(cert_path):
    """Lowercase hex SHA-256 of the DER form of the first certificate in a
    PEM file, without colons: what X509_digest(cert, EVP_sha256()) gives."""
    text = _read(cert_path)
    begin = text.find("-----BEGIN CERTIFICATE-----")
    end_marker = "-----END CERTIFICATE-----"
    end = text.find(end_marker, begin)
    if begin < 0 or end < 0:
        raise ValueError(f"{cert_path}: no PEM certificate")
    der = ssl.PEM_cert_to_DER_cert(text[begin:end + len(end_marker)])
    return hashlib.sha256(der).hexdigest()


@dataclasses.dataclass
class Certs:
    """Paths of the test certificates (PEM) and their private keys.

    ca / ca_key:        the test CA ("BBL CA (test)"), self-signed
    cert / key:         the printer's, signed by the CA, CN = the serial, no SAN
    other_cert / other_key: self-signed, same CN, unrelated to the CA
    """
    dir: str
    cn: str
    ca: str
    ca_key: str
    cert: str
    key: str
    other_cert: str
    other_key: str

    @staticmethod
    def sha256(cert_path):
        """See cert_sha256()."""
        return cert_sha256(cert_path)


def _openssl(cnf, *args):
    env = dict(os.environ, OPENSSL_CONF=cnf)
    r = subprocess.run([find_exe("openssl"), *args], capture_output=True, text=True,
                       env=env, timeout=WAIT)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {r.stderr.strip()}")
    return r.stdout


def _new_key(cnf, path, kind):
    if kind == "rsa":
        opts = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
    elif kind == "ec":
        opts = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
    else:
        raise ValueError(f"key kind {kind!r}: expected 'rsa' or 'ec'")
    _openssl(cnf, "genpkey", *opts, "-out", path)
    os.chmod(path, 0o600)


def make_certs(dir, cn=SERIAL, *, key="rsa", ca_from=None):  # noqa: A002 - the brief's name
    """Makes the test certificates in `dir` with the openssl CLI and returns
    their Certs. `cn` is the printer's serial. `key` is "rsa" (2048 bits, as
    real printers; ~0.5 s for the three keys) or "ec" (P-256, ~30 ms).
    `ca_from` (a Certs) reuses its CA instead of making one: one CA for
    many printers."""
    dir = os.path.abspath(dir)  # noqa: A001
    os.makedirs(dir, mode=0o700, exist_ok=True)
    cnf = os.path.join(dir, "openssl.cnf")
    _write(cnf, _OPENSSL_CNF, 0o644)
    p = lambda name: os.path.join(dir, name)  # noqa: E731

    def serial():
        return "0x%016x" % random.getrandbits(63)

    if ca_from is None:
        ca, ca_key = p("ca.crt"), p("ca.key")
        _new_key(cnf, ca_key, key)
        _openssl(cnf, "req", "-x509", "-new", "-key", ca_key, "-sha256", "-days", "3650",
                 "-set_serial", serial(),
                 "-subj", "/C=CN/O=BBL Technologies Co., Ltd (test)/CN=BBL CA (test)",
                 "-config", cnf, "-extensions", "ca_ext", "-out", ca)
    else:
        ca, ca_key = ca_from.ca, ca_from.ca_key

    cert, cert_key, csr = p("printer.crt"), p("printer.key"), p("printer.csr")
    _new_key(cnf, cert_key, key)
    _openssl(cnf, "req", "-new", "-key", cert_key, "-subj", f"/CN={cn}", "-config", cnf,
             "-out", csr)
    _openssl(cnf, "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-sha256",
             "-days", "3650", "-set_serial", serial(), "-extfile", cnf,
             "-extensions", "printer_ext", "-out", cert)
    os.unlink(csr)

    other, other_key = p("other.crt"), p("other.key")
    _new_key(cnf, other_key, key)
    _openssl(cnf, "req", "-x509", "-new", "-key", other_key, "-sha256", "-days", "3650",
             "-set_serial", serial(), "-subj", f"/CN={cn}", "-config", cnf,
             "-extensions", "self_ext", "-out", other)
    for c in (ca, cert, other):
        if os.path.dirname(c) == dir:
            os.chmod(c, 0o644)
    return Certs(dir=dir, cn=cn, ca=ca, ca_key=ca_key, cert=cert, key=cert_key,
                 other_cert=other, other_key=other_key)


# ---------------------------------------------------------------- TLS probes

def _client_context(ca=None):
    """TLS client context: verifies the chain against `ca` (no hostname
    check: a printer's CN is its serial), or verifies nothing."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    if ca:
        ctx.load_verify_locations(ca)
    else:
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def tls_connect(port, ca=None, timeout=5.0):
    """A TLS socket to 127.0.0.1:port (handshake done)."""
    raw = socket.create_connection((LOOPBACK, port), timeout=timeout)
    try:
        return _client_context(ca).wrap_socket(raw)
    except BaseException:
        raw.close()
        raise


def served_sha256(port, timeout=5.0):
    """SHA-256 (as cert_sha256) of the certificate served on `port`."""
    with tls_connect(port, timeout=timeout) as s:
        return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()


def _mqtt_string(b):
    return len(b).to_bytes(2, "big") + b


def _mqtt_length(n):
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def mqtt_connect(port, username, password, ca=None, client_id=None, keepalive=60,
                 keep=False, timeout=5.0):
    """Sends an MQTT 3.1.1 CONNECT over TLS and returns the CONNACK's return
    code (0 accepted, 5 not authorized), or (code, socket) with keep=True
    (the connection stays open: close it)."""
    s = tls_connect(port, ca=ca, timeout=timeout)
    try:
        cid = (client_id or f"probe-{os.getpid()}-{random.getrandbits(32):08x}").encode()
        var = _mqtt_string(b"MQTT") + bytes([4, 0xC2]) + keepalive.to_bytes(2, "big")
        payload = _mqtt_string(cid) + _mqtt_string(username.encode()) + \
            _mqtt_string(password.encode())
        body = var + payload
        s.sendall(bytes([0x10]) + _mqtt_length(len(body)) + body)
        ack = b""
        while len(ack) < 4:
            chunk = s.recv(4 - len(ack))
            if not chunk:
                raise ConnectionError("the broker closed the connection before CONNACK")
            ack += chunk
        if ack[0] != 0x20:
            raise ConnectionError(f"not a CONNACK: {ack!r}")
        code = ack[3]
        if keep:
            return code, s
        if code == 0:
            s.sendall(b"\xe0\x00")  # DISCONNECT
        s.close()
        return code
    except BaseException:
        s.close()
        raise


def ftps_banner(port, timeout=5.0):
    """Implicit TLS to 127.0.0.1:port, reads the FTP greeting, QUITs;
    returns the greeting ("220 ...")."""
    with tls_connect(port, timeout=timeout) as s:
        f = s.makefile("rb")
        line = f.readline().decode(errors="replace").strip()
        try:
            s.sendall(b"QUIT\r\n")
            f.readline()
        except OSError:
            pass
        f.close()
        return line


# ---------------------------------------------------------------- Mosquitto

class _LocalServer:
    """What Mosquitto and FtpsServer share: a restart, the certificate of the
    next start, stderr, and use as a context manager. A subclass has start(),
    _stop() (its processes; returns the exit status), stderr_path and _err."""

    def stop(self):
        """Stops the server; returns its exit status."""
        rc = self._stop()
        if self._err is not None:
            self._err.close()
            self._err = None
        _live.discard(self)
        return rc

    def restart(self):
        self.stop()
        return self.start()

    def use_cert(self, cert, key):
        """Serves `cert`/`key` from the next start() on."""
        self.cert, self.key = cert, key

    def stderr(self):
        return _read(self.stderr_path)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Mosquitto(_LocalServer):
    """A Mosquitto broker as a Bambu printer's: one TLS listener on
    127.0.0.1 (no client certificate asked), users from a password file
    (mosquitto_passwd), no anonymous access, no persistence.

    The port is picked at the first start() and kept by the next ones (a
    printer going away and coming back). use_cert() and set_password()
    change the certificate and users for the next start (set_password can
    also reload the running broker with SIGHUP). log() is its log file.
    """

    def __init__(self, workdir, certs, users=None, port=None, log_type="all"):
        self.dir = _subdir(workdir, "mosquitto")
        self.certs = certs
        self.ca = certs.ca
        self.cert, self.key = certs.cert, certs.key
        self.users = dict(users if users is not None else {"bblp": "12345678"})
        self.port = port
        self.log_type = log_type.split() if isinstance(log_type, str) else list(log_type)
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        self.password_file = os.path.join(self.dir, "passwd")
        self.log_path = os.path.join(self.dir, "mosquitto.log")
        self.stderr_path = os.path.join(self.dir, "mosquitto.stderr")
        self.proc = None
        self.start_seconds = None  # how long the last start() took
        self._err = None
        self._write_passwords()

    # -- files

    def _write_passwords(self):
        tmp = self.password_file + ".new"
        if os.path.exists(tmp):
            os.unlink(tmp)
        exe = find_exe("mosquitto_passwd")
        if not self.users:
            _write(tmp, "")
        # Made by `mosquitto_passwd -b` (hashes: PBKDF2-SHA512, "$7$"), then
        # 0600 before it takes the place of the old file.
        for i, (user, password) in enumerate(self.users.items()):
            args = [exe, "-c", "-b"] if i == 0 else [exe, "-b"]
            r = subprocess.run(args + [tmp, user, password], capture_output=True, text=True,
                               timeout=WAIT)
            if r.returncode != 0:
                raise RuntimeError(f"mosquitto_passwd: {r.stdout}{r.stderr}")
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.password_file)

    def _write_conf(self):
        lines = [
            "# Written by local_servers.py: a Bambu printer's broker on loopback.",
            "per_listener_settings false",
            "allow_anonymous false",
            f"password_file {self.password_file}",
            "persistence false",
            f"log_dest file {self.log_path}",
            *[f"log_type {t}" for t in self.log_type],
            "log_timestamp true",
            "log_timestamp_format %Y-%m-%dT%H:%M:%S",
            "connection_messages true",
            "max_keepalive 65535",
            "max_connections -1",
            "set_tcp_nodelay true",
        ]
        if os.geteuid() == 0:
            # As root Mosquitto would switch to the user "mosquitto" before
            # reading the password file, log and keys: it could not read
            # ours (0600, in a 0700 temp folder).
            lines.append("user root")
        lines += [
            f"listener {self.port} {LOOPBACK}",
            "protocol mqtt",
            f"cafile {self.ca}",
            f"certfile {self.cert}",
            f"keyfile {self.key}",
            "require_certificate false",
            "",
        ]
        _write(self.conf, "\n".join(lines))

    # -- control

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout=WAIT):
        """Starts the broker; returns once it listens with its keys loaded
        (its log says "running"; with less logging, once a TLS handshake
        completes)."""
        if self.running():
            return self
        raise_nofile()
        first = self.port is None
        for _ in range(5 if first else 1):
            if self.port is None:
                self.port = free_port()
            self._write_conf()
            log_before = len(_read(self.log_path))
            t0 = time.monotonic()
            self._err = open(self.stderr_path, "ab")
            self.proc = subprocess.Popen([find_exe("mosquitto"), "-c", self.conf],
                                         stdin=subprocess.DEVNULL, stdout=self._err,
                                         stderr=subprocess.STDOUT, close_fds=True)
            _live.add(self)
            ok = wait_for(lambda: self.proc.poll() is not None or self._ready(log_before),
                          timeout)
            if ok and self.proc.poll() is None:
                self.start_seconds = time.monotonic() - t0
                return self
            self.stop()
            text = _read(self.log_path)[log_before:] + _read(self.stderr_path)
            if first and "in use" in text:
                self.port = None  # someone else took it meanwhile: pick another
                continue
            raise RuntimeError(f"mosquitto did not start on {self.port}:\n{text[-3000:]}")
        raise RuntimeError("mosquitto: no free port")

    def _ready(self, log_from):
        # Its log says "running" once the listener is open with the keys
        # loaded. A probe connection would leave a client in the log that a
        # test could count; it is used only when the log says too little.
        if "information" in self.log_type or "all" in self.log_type:
            text = _read(self.log_path)[log_from:]
            return f"listen socket on port {self.port}" in text and " running" in text
        return self._accepts()

    def _accepts(self):
        try:
            tls_connect(self.port, timeout=1.0).close()
            return True
        except (OSError, ssl.SSLError):
            return False

    def _stop(self):
        return _stop_process(self.proc)

    def set_password(self, user, password, reload=False):
        """Sets `user`'s password (None removes the user) and rewrites the
        password file; the broker reads it at the next start(), or now with
        reload=True (SIGHUP: connected clients stay)."""
        if password is None:
            self.users.pop(user, None)
        else:
            self.users[user] = password
        self._write_passwords()
        if reload:
            self.reload()

    def reload(self, timeout=WAIT):
        """SIGHUP: the broker rereads its configuration and password file.
        Returns once it logged the reload."""
        if not self.running():
            return
        marker = "Reloading config"
        before = self.log().count(marker)
        self.proc.send_signal(signal.SIGHUP)
        # The broker is one thread: it rereads the files right after this
        # line, before it serves anything else.
        if not wait_for(lambda: self.log().count(marker) > before, timeout):
            raise RuntimeError("mosquitto did not reload")

    def log(self):
        """The broker's log (all starts)."""
        return _read(self.log_path)



# ---------------------------------------------------------------- ProFTPD

def _userns_works():
    """True if `unshare --user --map-root-user` works here (a normal user
    gets root in a user namespace: chroot for DefaultRoot)."""
    global _userns_cache
    if _userns_cache is None:
        try:
            r = subprocess.run([find_exe("unshare"), "--user", "--map-root-user", "true"],
                               capture_output=True, timeout=WAIT)
            _userns_cache = r.returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            _userns_cache = False
    return _userns_cache


_userns_cache = None


def _cert_is_ec(cert):
    out = _openssl(os.devnull, "x509", "-in", cert, "-noout", "-text")
    return "id-ecPublicKey" in out


class FtpsServer(_LocalServer):
    """ProFTPD as a Bambu printer's FTPS server: implicit TLS (TLS from the
    first byte, as on a printer's port 990) on 127.0.0.1, one virtual user
    (AuthUserFile, password hashed by `openssl passwd -6`) whose home `root`
    is the SD card; passive ports from a free range on 127.0.0.1; TLS
    session reuse on data connections required (as real printers).

    Privileges (`privileges`, else chosen by start()):
      "root"    running as root: the virtual user is uid 0 (RootLogin on),
                chrooted to `root` (DefaultRoot ~);
      "userns"  a normal user: proftpd runs in a user namespace (unshare
                --user --map-root-user) as root there; files it makes are
                ours; same chroot;
      "user"    a normal user where user namespaces are denied: proftpd
                runs as us (User/Group of our passwd entry) without chroot:
                the login folder is `root`, relative paths work, absolute
                ones are the real file system's (self.chroot is False).

    mode "inetd" (default): this process accepts on the port and runs
    `proftpd -c CONF` (ServerType inetd) per connection, its child. mode
    "standalone": `proftpd -n -c CONF`, whose master forks the sessions.
    Debian's 1.3.8 master sleeps 2 x 200 ms after each signal (a session
    ending, its timers) before it accepts again (ProFTPD issue #1623, fixed
    in 1.3.9): new connections wait up to 0.4 s, ~2.5 a second at most under
    load. Per connection the inetd mode costs ~15 ms and has no such stall.
    """

    def __init__(self, workdir, certs, root, user="bblp", password="12345678", port=None,
                 passive_ports=16, mode="inetd", session_reuse_required=True, privileges=None):
        if mode not in ("inetd", "standalone"):
            raise ValueError(f"mode {mode!r}: expected 'inetd' or 'standalone'")
        if privileges not in (None, "root", "userns", "user"):
            raise ValueError(f"privileges {privileges!r}: expected root, userns or user")
        self.dir = _subdir(workdir, "proftpd")
        self.certs = certs
        self.ca = certs.ca
        self.cert, self.key = certs.cert, certs.key
        self.root = os.path.realpath(root)
        os.makedirs(self.root, exist_ok=True)
        self.user, self.password = user, password
        self.port = port
        self.passive_count = passive_ports
        self.passive = None  # (first, last)
        self.mode = mode
        self.session_reuse_required = session_reuse_required
        self.conf = os.path.join(self.dir, "proftpd.conf")
        self.passwd_file = os.path.join(self.dir, "ftpd.passwd")
        self.group_file = os.path.join(self.dir, "ftpd.group")
        self.log_path = os.path.join(self.dir, "proftpd.log")
        self.tls_log_path = os.path.join(self.dir, "tls.log")
        self.xfer_log_path = os.path.join(self.dir, "xfer.log")
        self.stderr_path = os.path.join(self.dir, "proftpd.stderr")
        self.privileges = privileges  # None: chosen by start()
        self.chroot = None
        self.proc = None  # standalone: the master
        self.start_seconds = None
        self._err = None
        self._listener = None
        self._thread = None
        self._wake = None
        self._children = []
        self._lock = threading.Lock()

    @property
    def url(self):
        return f"ftps://{LOOPBACK}:{self.port}/"

    # -- files

    def _choose_privileges(self):
        if os.geteuid() == 0:
            return "root"
        if _userns_works():
            return "userns"
        return "user"

    def _ids(self):
        # The virtual user's uid/gid: 0 for root and in the namespace (which
        # maps 0 to us), else ours.
        if self.privileges in ("root", "userns"):
            return 0, 0
        return os.getuid(), os.getgid()

    def _write_users(self):
        uid, gid = self._ids()
        r = subprocess.run([find_exe("openssl"), "passwd", "-6", "-stdin"],
                           input=self.password + "\n", capture_output=True, text=True,
                           timeout=WAIT)
        if r.returncode != 0:
            raise RuntimeError(f"openssl passwd: {r.stderr}")
        hashed = r.stdout.strip()
        _write(self.passwd_file, f"{self.user}:{hashed}:{uid}:{gid}::{self.root}:/bin/false\n")
        _write(self.group_file, f"{self.user}:x:{gid}:{self.user}\n")

    def _write_conf(self):
        ec = _cert_is_ec(self.cert)
        tls_cert = "TLSECCertificateFile" if ec else "TLSRSACertificateFile"
        tls_key = "TLSECCertificateKeyFile" if ec else "TLSRSACertificateKeyFile"
        options = "UseImplicitSSL" + ("" if self.session_reuse_required
                                      else " NoSessionReuseRequired")
        lines = [
            "# Written by local_servers.py: a Bambu printer's FTPS server on loopback.",
            'ServerName "Bambu printer (test)"',
            f"ServerType {self.mode}",
            "UseIPv6 off",
            f"DefaultAddress {LOOPBACK}",
            "SocketBindTight on",
            f"Port {self.port}",
            f"PassivePorts {self.passive[0]} {self.passive[1]}",
            "UseReverseDNS off",
            "<IfModule mod_ident.c>",
            "  IdentLookups off",
            "</IfModule>",
            f"ModulePath {PROFTPD_MODULES}",
            "<IfModule !mod_tls.c>",
            "  LoadModule mod_tls.c",
            "</IfModule>",
            # Nothing outside our folder: pid, scoreboard, logs, no wtmp, no
            # controls socket, no delay table.
            f"PidFile {os.path.join(self.dir, 'proftpd.pid')}",
            f"ScoreboardFile {os.path.join(self.dir, 'proftpd.scoreboard')}",
            "ScoreboardScrub off",
            f"SystemLog {self.log_path}",
            f"TransferLog {self.xfer_log_path}",
            "WtmpLog off",
            "UseFtpUsers off",
            "<IfModule mod_delay.c>",
            "  DelayEngine off",
            f"  DelayTable {os.path.join(self.dir, 'proftpd.delay')}",
            "</IfModule>",
            "<IfModule mod_ctrls.c>",
            "  ControlsEngine off",
            "</IfModule>",
            "<IfModule mod_auth_pam.c>",
            "  AuthPAM off",
            "</IfModule>",
            # The virtual user only: no PAM, no /etc/passwd, no shell check.
            "AuthOrder mod_auth_file.c",
            f"AuthUserFile {self.passwd_file}",
            f"AuthGroupFile {self.group_file}",
            "RequireValidShell off",
        ]
        if self.privileges == "user":
            pw = pwd.getpwuid(os.getuid())  # KeyError: no passwd entry for us
            lines += [f"User {pw.pw_name}", f"Group {grp.getgrgid(os.getgid()).gr_name}",
                      "<IfModule mod_cap.c>", "  CapabilitiesEngine off", "</IfModule>"]
        else:
            lines += ["RootLogin on", "DefaultRoot ~"]
        lines += [
            "Umask 022",
            "AllowOverwrite on",
            *(["MaxInstances 1000"] if self.mode == "standalone" else []),
            "TLSEngine on",
            "TLSRequired on",
            f"TLSOptions {options}",
            "TLSProtocol TLSv1.2 TLSv1.3",
            f"{tls_cert} {self.cert}",
            f"{tls_key} {self.key}",
            "TLSVerifyClient off",
            f"TLSLog {self.tls_log_path}",
            "",
        ]
        _write(self.conf, "\n".join(lines))

    def _command(self):
        cmd = [find_exe("proftpd"), "-c", self.conf]
        if self.mode == "standalone":
            cmd.insert(1, "-n")
        if self.privileges == "userns":
            cmd = [find_exe("unshare"), "--user", "--map-root-user"] + cmd
        return cmd

    # -- control

    def running(self):
        if self.mode == "standalone":
            return self.proc is not None and self.proc.poll() is None
        return self._listener is not None

    def start(self, timeout=WAIT):
        """Starts the server and returns once it greets over implicit TLS."""
        if self.running():
            return self
        raise_nofile()
        if self.privileges is None:
            self.privileges = self._choose_privileges()
        self.chroot = self.privileges != "user"
        if self.passive is None:
            ports = free_ports(self.passive_count)
            self.passive = (ports[0], ports[-1])
        self._write_users()
        first = self.port is None
        text = ""
        for _ in range(5 if first else 1):
            if self.port is None:
                self.port = free_port()
            self._write_conf()
            before = (len(_read(self.log_path)), len(_read(self.stderr_path)),
                      len(_read(self.tls_log_path)))
            t0 = time.monotonic()
            self._err = open(self.stderr_path, "ab")
            try:
                if self.mode == "standalone":
                    self.proc = subprocess.Popen(self._command(), stdin=subprocess.DEVNULL,
                                                 stdout=self._err, stderr=subprocess.STDOUT,
                                                 close_fds=True)
                    _live.add(self)
                    ok = wait_for(lambda: self.proc.poll() is not None or self._greets(),
                                  timeout)
                    ok = ok and self.proc.poll() is None
                else:
                    self._listen()
                    _live.add(self)
                    ok = self._greets(timeout=timeout)
            except OSError as e:
                if not (first and e.errno == errno.EADDRINUSE):
                    self.stop()
                    raise
                ok = False
            if ok:
                self.start_seconds = time.monotonic() - t0
                return self
            self.stop()
            text = (_read(self.log_path)[before[0]:] + _read(self.stderr_path)[before[1]:] +
                    _read(self.tls_log_path)[before[2]:])
            if first and ("in use" in text or not text):
                self.port = None
                continue
            raise RuntimeError(f"proftpd did not start on {self.port}:\n{text[-3000:]}")
        raise RuntimeError(f"proftpd did not start on 5 free ports:\n{text[-3000:]}")

    def _greets(self, timeout=1.0):
        try:
            return ftps_banner(self.port, timeout=timeout).startswith("220")
        except (OSError, ssl.SSLError):
            return False

    def _listen(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((LOOPBACK, self.port))
            s.listen(512)
        except OSError:
            s.close()
            raise
        self._listener = s
        self._wake = os.pipe()
        self._thread = threading.Thread(target=self._serve, name=f"ftps-{self.port}",
                                        daemon=True)
        self._thread.start()

    def _serve(self):
        """The inetd: one `proftpd -c CONF` per connection, on its socket."""
        cmd = self._command()
        poller = select.poll()  # not select(): our fds may be above 1024
        poller.register(self._listener, select.POLLIN)
        poller.register(self._wake[0], select.POLLIN)
        while True:
            events = dict(poller.poll(1000))
            if self._wake[0] in events:
                return
            with self._lock:
                self._children = [c for c in self._children if c.poll() is None]
            if self._listener.fileno() not in events:
                continue
            try:
                conn, _ = self._listener.accept()
            except OSError:  # out of files, say: the client waits a moment
                time.sleep(0.05)
                continue
            with conn:
                try:
                    child = subprocess.Popen(cmd, stdin=conn, stdout=conn, stderr=self._err,
                                             close_fds=True)
                except OSError as e:
                    self._err.write(f"local_servers: cannot run proftpd: {e}\n".encode())
                    self._err.flush()
                    continue
            with self._lock:
                self._children.append(child)

    def _stop(self):
        """Stops the server and every session; returns the master's exit
        status (standalone) or None."""
        rc = None
        if self.mode == "standalone":
            rc = _stop_process(self.proc)
        elif self._listener is not None:
            os.write(self._wake[1], b"x")
            self._thread.join(WAIT)
            self._listener.close()
            self._listener = None
            for fd in self._wake:
                os.close(fd)
            self._wake = None
        with self._lock:
            children, self._children = self._children, []
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            _stop_process(child)
        return rc

    def set_password(self, password):
        """Changes the virtual user's password; proftpd reads its
        AuthUserFile at each login, so new logins see it at once."""
        self.password = password
        if self.privileges is not None:
            self._write_users()

    def sessions(self):
        """inetd mode: the live session processes."""
        with self._lock:
            return [c for c in self._children if c.poll() is None]

    def log(self):
        """ProFTPD's system log (logins, errors)."""
        return _read(self.log_path)

    def tls_log(self):
        return _read(self.tls_log_path)

    def xfer_log(self):
        """The transfer log (xferlog format): one line per upload/download."""
        return _read(self.xfer_log_path)



# ---------------------------------------------------------------- self-test

def _run(args, timeout=30, input=None):  # noqa: A002
    r = subprocess.run(args, capture_output=True, timeout=timeout, input=input)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


class _Checks:
    def __init__(self):
        self.failed = []

    def check(self, name, ok, detail=""):
        print(("PASS " if ok else "FAIL ") + name + ("" if ok or not detail else f": {detail}"),
              flush=True)
        if not ok:
            self.failed.append(name)
        return ok


def selftest(keep=False, mode="inetd", clients=450, privileges=None):
    """Runs both servers in a temp folder and checks them with the openssl
    CLI, curl and mosquitto_pub/sub. Returns the number of failed checks."""
    missing = missing_tools() + [t for t in ("curl", "mosquitto_pub", "mosquitto_sub")
                                 if not shutil.which(t)]
    if missing:
        print(f"FAIL missing programs: {' '.join(missing)} (see scripts/bootstrap)")
        return 1
    work = tempfile.mkdtemp(prefix="pc-local-servers-")
    c = _Checks()
    servers = []
    try:
        t0 = time.monotonic()
        certs = make_certs(os.path.join(work, "certs"))
        print(f"info: certificates in {time.monotonic() - t0:.2f} s "
              f"(euid {os.geteuid()}, nofile {raise_nofile()})")

        # -- certificates
        rc, out, _ = _run(["openssl", "x509", "-in", certs.cert, "-noout", "-fingerprint",
                           "-sha256"])
        cli = out.strip().split("=", 1)[-1].replace(":", "").lower()
        c.check("certs: sha256() equals openssl's fingerprint",
                rc == 0 and cli == certs.sha256(certs.cert), f"{cli} != {certs.sha256(certs.cert)}")
        rc, out, _ = _run(["openssl", "x509", "-in", certs.cert, "-noout", "-subject", "-ext",
                           "subjectAltName"])
        c.check("certs: CN is the serial, no SAN", rc == 0 and f"CN = {certs.cn}" in out
                and "Alternative" not in out, out)
        rc, _, _ = _run(["openssl", "verify", "-CAfile", certs.ca, certs.cert])
        rc2, _, _ = _run(["openssl", "verify", "-CAfile", certs.ca, certs.other_cert])
        c.check("certs: CA signs cert, not other_cert", rc == 0 and rc2 != 0)
        c.check("certs: other_cert has another fingerprint",
                certs.sha256(certs.other_cert) != certs.sha256(certs.cert))

        # -- Mosquitto
        m = Mosquitto(work, certs, users={"bblp": "12345678", "printer": "secret"})
        servers.append(m)
        m.start()
        print(f"info: mosquitto on {m.port}, started in {m.start_seconds:.3f} s")
        sub_base = ["mosquitto_sub", "-h", LOOPBACK, "-p", str(m.port), "--cafile", m.ca,
                    "--insecure"]
        pub_base = ["mosquitto_pub", "-h", LOOPBACK, "-p", str(m.port), "--cafile", m.ca,
                    "--insecure"]
        topic = f"device/{certs.cn}/report"
        sub = subprocess.Popen(sub_base + ["-u", "bblp", "-P", "12345678", "-t", "device/#",
                                           "-C", "1", "-W", "10", "-v"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: m.log().count("Received SUBSCRIBE") >= 1, 10)
        rc, _, err = _run(pub_base + ["-u", "printer", "-P", "secret", "-t", topic,
                                      "-m", '{"print":{"command":"push_status"}}'])
        out, serr = sub.communicate(timeout=15)
        c.check("mosquitto: pub/sub over TLS (--cafile CA --insecure)",
                rc == 0 and sub.returncode == 0 and out.startswith(topic), f"{err}{serr}{out}")
        rc, _, err = _run(pub_base + ["-u", "bblp", "-P", "wrong", "-t", "x", "-m", "y"])
        c.check("mosquitto: wrong password refused (rc 5)", rc == 5, f"rc {rc}: {err}")
        rc, _, err = _run(["mosquitto_pub", "-h", LOOPBACK, "-p", str(m.port), "--cafile",
                           m.ca, "-u", "bblp", "-P", "12345678", "-t", "x", "-m", "y"])
        c.check("mosquitto: without --insecure the name check fails (CN = serial)", rc != 0,
                f"rc {rc}")
        c.check("mosquitto: MQTT CONNECT from Python (verified chain)",
                mqtt_connect(m.port, "bblp", "12345678", ca=m.ca) == 0
                and mqtt_connect(m.port, "bblp", "nope") == 5)

        socks = []
        try:
            t1 = time.monotonic()
            for i in range(clients):
                code, s = mqtt_connect(m.port, "bblp", "12345678", keep=True,
                                       client_id=f"many-{i}")
                socks.append(s)
                if code != 0:
                    break
            ok = len(socks) == clients and code == 0
            c.check(f"mosquitto: {clients} clients at once", ok,
                    f"{len(socks)} connected, last code {code}")
            print(f"info: {clients} TLS MQTT connections in {time.monotonic() - t1:.2f} s")
        except OSError as e:
            c.check(f"mosquitto: {clients} clients at once", False, f"{len(socks)}: {e}")
        finally:
            for s in socks:
                s.close()

        port = m.port
        t1 = time.monotonic()
        m.stop()
        c.check("mosquitto: stopped (refuses connections)", not m._accepts())
        m.start()
        print(f"info: mosquitto stop+start in {time.monotonic() - t1:.3f} s")
        rc, _, err = _run(pub_base + ["-u", "bblp", "-P", "12345678", "-t", "x", "-m", "y"])
        c.check("mosquitto: restart on the same port", m.port == port and rc == 0, err)

        m.set_password("bblp", "87654321", reload=True)
        c.check("mosquitto: set_password + SIGHUP reload",
                mqtt_connect(m.port, "bblp", "87654321") == 0
                and mqtt_connect(m.port, "bblp", "12345678") == 5)

        m.use_cert(certs.other_cert, certs.other_key)
        m.restart()
        c.check("mosquitto: use_cert serves the other certificate",
                served_sha256(m.port) == certs.sha256(certs.other_cert))
        try:
            mqtt_connect(m.port, "bblp", "87654321", ca=m.ca)
            c.check("mosquitto: the other certificate fails the CA check", False)
        except ssl.SSLCertVerificationError:
            c.check("mosquitto: the other certificate fails the CA check", True)
        m.stop()

        # -- ProFTPD
        sd = os.path.join(work, "sd")
        os.makedirs(os.path.join(sd, "cache"))
        f = FtpsServer(work, certs, root=sd, mode=mode, privileges=privileges)
        servers.append(f)
        f.start()
        print(f"info: proftpd ({f.mode}, {f.privileges}) on {f.port}, passive "
              f"{f.passive[0]}-{f.passive[1]}, started in {f.start_seconds:.3f} s")
        url = f"ftps://{LOOPBACK}:{f.port}"
        auth = ["-u", f"{f.user}:{f.password}"]
        curl = ["curl", "-sS", "--cacert", certs.ca, "-k", "--max-time", "20"] + auth
        rc, out, err = _run(curl + ["--list-only", url + "/"])
        c.check("ftps: NLST of / (curl -k)", rc == 0 and out.split() == ["cache"],
                f"rc {rc}: {err}{out}")

        data = os.urandom(300_000)
        src = os.path.join(work, "up.gcode")
        with open(src, "wb") as fh:
            fh.write(data)
        rc, out, err = _run(curl + ["-T", src, "--ftp-create-dirs",
                                    url + "/sub/dir/x.gcode"])
        dst = os.path.join(sd, "sub", "dir", "x.gcode")
        ok = rc == 0 and os.path.exists(dst) and open(dst, "rb").read() == data
        c.check("ftps: upload into new subfolders (--ftp-create-dirs)", ok,
                f"rc {rc}: {err}")
        if ok:
            st = os.stat(dst)
            c.check("ftps: the upload is owned by us", (st.st_uid, st.st_gid) ==
                    (os.getuid(), os.getgid()), f"{st.st_uid}:{st.st_gid}")
        rc, out, err = _run(curl + ["--list-only", url + "/sub/dir/"])
        c.check("ftps: NLST of a subfolder", rc == 0 and out.split() == ["x.gcode"],
                f"rc {rc}: {err}{out}")
        rc, out, err = _run(curl + [url + "/sub/dir/"])
        c.check("ftps: LIST of a subfolder", rc == 0 and "300000" in out and "x.gcode" in out,
                f"rc {rc}: {err}{out}")
        rc, out, err = _run(curl + ["-X", "MLSD", url + "/sub/dir/"])
        c.check("ftps: MLSD of a subfolder (-X MLSD)", rc == 0 and "size=300000;" in out
                and "type=file;" in out, f"rc {rc}: {err}{out}")
        rc, out, err = _run(curl + ["--disable-epsv", "--list-only", url + "/sub/dir/"])
        c.check("ftps: PASV as well as EPSV (--disable-epsv)", rc == 0 and "x.gcode" in out,
                f"rc {rc}: {err}")
        got = os.path.join(work, "down.gcode")
        rc, out, err = _run(curl + ["-o", got, url + "/sub/dir/x.gcode"])
        c.check("ftps: download", rc == 0 and open(got, "rb").read() == data,
                f"rc {rc}: {err}")
        # Absolute paths are the SD card's only when chrooted (see FtpsServer).
        top = "/" if f.chroot else ""
        rc, out, err = _run(curl + ["-I", "-Q", "MKD made", "-Q", f"MKD {top}sub/made2",
                                    url + "/"])
        c.check("ftps: MKD (relative and absolute)", rc == 0 and os.path.isdir(
            os.path.join(sd, "made")) and os.path.isdir(os.path.join(sd, "sub", "made2")),
            f"rc {rc}: {err}")
        rc, out, err = _run(curl + ["-I", "-Q", "DELE sub/dir/x.gcode", "-Q", f"RMD {top}sub/dir",
                                    "-Q", "RMD made", url + "/"])
        c.check("ftps: DELE and RMD", rc == 0 and not os.path.exists(dst) and not
                os.path.exists(os.path.join(sd, "sub", "dir")) and not
                os.path.exists(os.path.join(sd, "made")), f"rc {rc}: {err}")
        rc, out, err = _run(["curl", "-sS", "-k", "-u", f"{f.user}:wrong", "--list-only",
                             url + "/"])
        c.check("ftps: wrong password refused (curl 67, 530)", rc == 67 and "530" in err,
                f"rc {rc}: {err}")
        # The full check a driver makes: the chain against the CA, the name
        # against the serial (curl can only skip both, with -k).
        resolve = ["--resolve", f"{certs.cn}:{f.port}:{LOOPBACK}"]
        rc, out, err = _run(["curl", "-sS", "--cacert", certs.ca] + auth + resolve +
                            ["--list-only", f"ftps://{certs.cn}:{f.port}/"])
        c.check("ftps: verified TLS (--cacert CA, --resolve SERIAL:PORT:127.0.0.1)",
                rc == 0, f"rc {rc}: {err}")
        rc, out, err = _run(["curl", "-sS", "--cacert", certs.ca] + auth +
                            ["--list-only", url + "/"])
        c.check("ftps: name check against 127.0.0.1 fails (curl 60)", rc == 60,
                f"rc {rc}: {err}")
        if f.chroot:
            rc, out, err = _run(curl + ["-v", "-I", url + "/"])
            c.check("ftps: chrooted to root (PWD is /)", '257 "/"' in err, err[-500:])

        port = f.port
        t1 = time.monotonic()
        f.stop()
        c.check("ftps: stopped (refuses connections)", not f._greets())
        f.start()
        print(f"info: proftpd stop+start in {time.monotonic() - t1:.3f} s")
        rc, out, err = _run(curl + ["--list-only", url + "/"])
        c.check("ftps: restart on the same port", f.port == port and rc == 0, err)

        t1 = time.monotonic()
        n = 10
        for _ in range(n):
            _run(curl + ["-I", url + "/"])
        print(f"info: {n} sequential curl logins (no data connection): "
              f"{(time.monotonic() - t1) / n * 1000:.0f} ms each")
        t1 = time.monotonic()
        for _ in range(n):
            _run(curl + ["--list-only", url + "/"])
        print(f"info: {n} sequential curl NLSTs: {(time.monotonic() - t1) / n * 1000:.0f} ms each")
        procs = [subprocess.Popen(curl + ["--list-only", url + "/"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE) for _ in range(40)]
        t1 = time.monotonic()
        rcs = [p.wait(60) for p in procs]
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        print(f"info: 40 parallel curl NLSTs in {time.monotonic() - t1:.2f} s")
        c.check("ftps: 40 parallel sessions", rcs == [0] * 40, str(rcs))
        f.stop()
        leftovers = [p for p in ("/run/proftpd/proftpd.sock",) if os.path.exists(p)]
        c.check("ftps: nothing written outside the work folder", not leftovers, str(leftovers))
    except Exception as e:  # noqa: BLE001 - report, don't trace
        import traceback
        traceback.print_exc()
        c.check("self-test ran to the end", False, repr(e))
    finally:
        for s in servers:
            s.stop()
        if keep:
            print(f"info: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("PASS" if not c.failed else f"FAIL ({len(c.failed)} failed)")
    return len(c.failed)


def serve(workdir=None):
    """Runs both servers until Ctrl-C, printing how to reach them."""
    work = workdir or tempfile.mkdtemp(prefix="pc-local-servers-")
    certs = make_certs(os.path.join(work, "certs"))
    sd = os.path.join(work, "sd")
    os.makedirs(os.path.join(sd, "cache"), exist_ok=True)
    m = Mosquitto(work, certs).start()
    f = FtpsServer(work, certs, root=sd).start()
    print(f"serial {certs.cn}, access code 12345678, CA {certs.ca}, "
          f"sha256 {certs.sha256(certs.cert)}")
    print(f"mqtt:  mosquitto_sub -h {LOOPBACK} -p {m.port} --cafile {certs.ca} --insecure "
          f"-u bblp -P 12345678 -t 'device/#' -v")
    print(f"ftps:  curl -k -u bblp:12345678 ftps://{LOOPBACK}:{f.port}/ --list-only")
    print(f"files: {work}; Ctrl-C stops")
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        f.stop()
        m.stop()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--selftest", action="store_true", help="check both servers")
    ap.add_argument("--serve", action="store_true", help="run both servers until Ctrl-C")
    ap.add_argument("--keep", action="store_true", help="keep the self-test's temp folder")
    ap.add_argument("--mode", choices=("inetd", "standalone"), default="inetd",
                    help="ProFTPD's server type for the self-test")
    ap.add_argument("--privileges", choices=("root", "userns", "user"),
                    help="force how ProFTPD runs in the self-test (see FtpsServer)")
    ap.add_argument("--clients", type=int, default=450,
                    help="MQTT clients connected at once in the self-test")
    args = ap.parse_args(argv)
    if args.serve:
        serve()
        return 0
    if args.selftest:
        return 1 if selftest(keep=args.keep, mode=args.mode, clients=args.clients,
                                 privileges=args.privileges) else 0
    ap.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
