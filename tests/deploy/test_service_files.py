"""deploy/: the systemd unit and the reverse proxies, checked by the tools that run them.

Each tool's test skips only when the tool is not installed. nginx is also run for real, with a
self-signed certificate, in front of a real `policybot serve`: the bot answers through it, gets
nginx's request id, and /metrics stays closed.
"""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.serving import free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "systemd" / "policybot.service"
POLICYBOT = Path(sys.executable).parent / "policybot"


def needs(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed")
    return path


def unit_keys(text: str) -> dict[str, dict[str, list[str]]]:
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


# -- systemd ---------------------------------------------------------------------------------


def test_the_unit_runs_as_its_own_user_hardened_and_restarts() -> None:
    service = unit_keys(UNIT.read_text(encoding="utf-8"))["Service"]
    assert service["User"] == ["policybot"]
    assert service["ExecStart"][0].endswith("policybot serve --host 127.0.0.1")
    for key, value in {
        "ProtectSystem": "strict",
        "NoNewPrivileges": "yes",
        "PrivateTmp": "yes",
        "ProtectHome": "yes",
        "Restart": "always",
    }.items():
        assert service[key] == [value], key
    assert service["ReadWritePaths"] == ["/var/lib/policybot"]
    assert "POLICYBOT_DATA_DIR=/var/lib/policybot" in service["Environment"]
    assert service["EnvironmentFile"] == ["/etc/policybot/policybot.env"]
    assert service["CapabilityBoundingSet"] == [""]


def _installable_unit(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this environment's policybot (verify checks that
    the program exists), under its own name in a directory of its own."""
    text = UNIT.read_text(encoding="utf-8").replace("/opt/policybot/bin/policybot", str(POLICYBOT))
    unit = tmp_path / "policybot.service"
    unit.write_text(text, encoding="utf-8")
    return unit


def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    analyze = needs("systemd-analyze")
    done = subprocess.run(
        [analyze, "verify", str(_installable_unit(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == ""


def test_systemd_analyze_rates_the_unit_well_exposed_at_most_2(tmp_path: Path) -> None:
    analyze = needs("systemd-analyze")
    done = subprocess.run(
        [analyze, "security", "--offline=true", str(_installable_unit(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if "--offline" in done.stderr and "unrecognized" in done.stderr:
        pytest.skip("this systemd-analyze cannot rate a unit file offline")
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d)", done.stdout)
    assert found, done.stdout + done.stderr
    assert float(found.group(1)) <= 2.0


# -- Caddy -------------------------------------------------------------------------------------


def test_caddy_validates_the_caddyfile() -> None:
    caddy = needs("caddy")
    env = {**os.environ, "POLICYBOT_DOMAIN": "bot.school.example", "HOME": "/tmp"}
    done = subprocess.run(
        [caddy, "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Valid configuration" in done.stdout + done.stderr


def test_the_caddyfile_closes_metrics_and_sends_a_request_id() -> None:
    text = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    assert "respond @metrics 404" in text
    assert "header_up X-Request-Id {http.request.uuid}" in text


# -- nginx -------------------------------------------------------------------------------------


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bot.school.example")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("bot.school.example"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def nginx_config(tmp_path: Path, *, upstream: int, http: int, https: int) -> Path:
    """deploy/nginx/policybot.conf as shipped, with only the addresses, ports and certificate
    changed, inside a minimal nginx.conf that keeps everything in tmp_path."""
    cert, key = self_signed(tmp_path)
    site = (DEPLOY / "nginx" / "policybot.conf").read_text(encoding="utf-8")
    site = site.replace("server 127.0.0.1:3978;", f"server 127.0.0.1:{upstream};")
    site = re.sub(r"\n\s*listen \[::\]:\d+( ssl)?;", "", site)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http};")
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{https} ssl;")
    site = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};", site)
    site = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", site)
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    temp = tmp_path / "temp"
    temp.mkdir()
    main = tmp_path / "nginx.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""
    main.write_text(
        f"{user}daemon off;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\nhttp {\n"
        f"  access_log off;\n  client_body_temp_path {temp}/body;\n"
        f"  proxy_temp_path {temp}/proxy;\n  fastcgi_temp_path {temp}/fastcgi;\n"
        f"  uwsgi_temp_path {temp}/uwsgi;\n  scgi_temp_path {temp}/scgi;\n"
        f"  include {tmp_path}/site.conf;\n}}\n",
        encoding="utf-8",
    )
    return main


def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    nginx = needs("nginx")
    config = nginx_config(tmp_path, upstream=free_port(), http=free_port(), https=free_port())
    done = subprocess.run(
        [nginx, "-t", "-c", str(config), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def _wait_for(url: str, context: ssl.SSLContext | None = None) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5, context=context):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("POLICYBOT_", "SLACK_", "MICROSOFT_")) and k != "DATABASE_URL"
    }
    env |= {"POLICYBOT_DATA_DIR": str(tmp_path / "data"), "PORT": str(port)}
    process = subprocess.Popen(
        [str(POLICYBOT), "serve", "--host", "127.0.0.1"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_bot_answers_through_nginx_with_nginxs_request_id(tmp_path: Path, serve: int) -> None:
    nginx = needs("nginx")
    proxy_dir = tmp_path / "nginx"
    proxy_dir.mkdir()
    http_port, https = free_port(), free_port()
    config = nginx_config(proxy_dir, upstream=serve, http=http_port, https=https)
    process = subprocess.Popen(
        [nginx, "-c", str(config), "-p", str(proxy_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    context = ssl.create_default_context(cafile=str(proxy_dir / "cert.pem"))
    base = f"https://127.0.0.1:{https}"
    try:
        _wait_for(f"{base}/healthz", context)
        request = urllib.request.Request(
            f"{base}/readyz", headers={"X-Request-Id": "chosen-by-the-caller"}
        )
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            assert response.status == 200
            assert b'"ready"' in response.read()
            request_id = response.headers["X-Request-Id"]
        assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's $request_id, passed on
        with pytest.raises(urllib.error.HTTPError) as closed:
            urllib.request.urlopen(f"{base}/metrics", timeout=10, context=context)
        closed.value.close()  # the error holds the response, and its socket
        assert closed.value.code == 404
        plain = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
        plain.request("GET", "/healthz", headers={"Host": "bot.school.example"})
        redirect = plain.getresponse()
        assert redirect.status == 301
        assert redirect.headers["Location"] == "https://bot.school.example/healthz"
        plain.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
