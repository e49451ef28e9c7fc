"""The real servers the Bambu driver's tests run against (local_servers.py):
the test certificates, Mosquitto and ProFTPD on loopback — their TLS, users,
restarts on the same port and certificate changes, checked with Python's ssl
and curl."""
import os
import shutil
import subprocess

import pytest

import local_servers as ls

pytestmark = pytest.mark.skipif(bool(ls.missing_tools()),
                                reason=f"not installed: {' '.join(ls.missing_tools())} "
                                       "(scripts/bootstrap)")


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return ls.make_certs(tmp_path_factory.mktemp("certs"))


def test_certificates(certs):
    out = subprocess.run(["openssl", "x509", "-in", certs.cert, "-noout", "-fingerprint",
                          "-sha256", "-subject", "-ext", "subjectAltName"],
                         capture_output=True, text=True, check=True).stdout
    fingerprint = out.splitlines()[0].split("=", 1)[1].replace(":", "").lower()
    assert certs.sha256(certs.cert) == fingerprint
    assert f"CN = {certs.cn}" in out and "Alternative" not in out
    assert subprocess.run(["openssl", "verify", "-CAfile", certs.ca, certs.cert],
                          capture_output=True).returncode == 0
    assert subprocess.run(["openssl", "verify", "-CAfile", certs.ca, certs.other_cert],
                          capture_output=True).returncode != 0


def test_mosquitto(certs, tmp_path):
    m = ls.Mosquitto(tmp_path, certs, users={"bblp": "12345678", "printer": "secret"})
    try:
        m.start()
        assert ls.mqtt_connect(m.port, "bblp", "12345678", ca=m.ca) == 0
        assert ls.mqtt_connect(m.port, "printer", "secret") == 0
        assert ls.mqtt_connect(m.port, "bblp", "wrong") == 5
        assert ls.served_sha256(m.port) == certs.sha256(certs.cert)

        # 400+ clients at once (the benchmark: 200 printers, bridge + fakes).
        if ls.raise_nofile() >= 1000:
            socks = []
            try:
                for i in range(410):
                    code, s = ls.mqtt_connect(m.port, "bblp", "12345678", keep=True,
                                              client_id=f"c{i}")
                    socks.append(s)
                    assert code == 0
            finally:
                for s in socks:
                    s.close()

        port = m.port
        m.stop()
        with pytest.raises(OSError):
            ls.tls_connect(port, timeout=1).close()
        m.set_password("bblp", "87654321")
        m.use_cert(certs.other_cert, certs.other_key)
        m.start()
        assert m.port == port
        assert ls.served_sha256(port) == certs.sha256(certs.other_cert)
        assert ls.mqtt_connect(port, "bblp", "87654321") == 0
        assert ls.mqtt_connect(port, "bblp", "12345678") == 5
        m.set_password("bblp", "12345678", reload=True)  # SIGHUP, no restart
        assert ls.mqtt_connect(port, "bblp", "12345678") == 0
        assert "New client connected" in m.log()
    finally:
        m.stop()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_ftps(certs, tmp_path):
    sd = tmp_path / "sd"
    (sd / "cache").mkdir(parents=True)
    f = ls.FtpsServer(tmp_path, certs, root=str(sd))
    src = tmp_path / "up.gcode"
    src.write_bytes(os.urandom(70_000))

    def curl(*args, user="bblp:12345678"):
        return subprocess.run(["curl", "-sS", "-k", "--max-time", "20", "-u", user, *args],
                              capture_output=True, text=True, timeout=30)
    try:
        f.start()
        url = f.url
        r = curl("-T", str(src), "--ftp-create-dirs", url + "cache/sub/a%20b.gcode")
        assert r.returncode == 0, r.stderr
        dst = sd / "cache" / "sub" / "a b.gcode"
        assert dst.read_bytes() == src.read_bytes()
        assert (dst.stat().st_uid, dst.stat().st_gid) == (os.getuid(), os.getgid())
        r = curl(url + "cache/sub/")
        assert r.returncode == 0 and "70000" in r.stdout and "a b.gcode" in r.stdout
        r = curl("-X", "MLSD", url + "cache/sub/")
        assert r.returncode == 0 and "size=70000;" in r.stdout
        top = "/" if f.chroot else ""  # the driver's absolute paths need the chroot
        r = curl("-I", "-Q", f"DELE {top}cache/sub/a b.gcode", "-Q", f"RMD {top}cache/sub",
                 "-Q", f"MKD {top}made", url)
        assert r.returncode == 0, r.stderr
        assert not dst.exists() and (sd / "made").is_dir()
        r = curl("--list-only", url, user="bblp:wrong")
        assert r.returncode == 67 and "530" in r.stderr

        port = f.port
        f.stop()
        assert not f._greets()
        f.start()
        assert f.port == port
        r = subprocess.run(["curl", "-sS", "--cacert", certs.ca, "-u", "bblp:12345678",
                            "--resolve", f"{certs.cn}:{port}:127.0.0.1", "--list-only",
                            f"ftps://{certs.cn}:{port}/"], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 0 and r.stdout.split() == ["cache", "made"], r.stderr
    finally:
        f.stop()
