"""Deployment tests: Parley behind Debian's nginx, run with ``deploy/nginx.conf`` itself.

The fixtures of the end-to-end tests (a migrated PostgreSQL database, seeded sites and their
servers, claimed Redis databases) are used here too.
"""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import needs
from tests.e2e.conftest import postgres_url, site_factory  # noqa: F401  (fixtures)
from tests.servers import REPO, free_port, wait_until_listening

NGINX_CONF = REPO / "deploy" / "nginx.conf"
SERVER_NAME = "chat.example.com"  # deploy/nginx.conf's server_name, kept as it is

# The only lines of deploy/nginx.conf a test run changes: where nginx listens, where Parley
# listens, the certificate and the collected static files. Each must be found exactly once, so
# an edit of the file that moves them fails here instead of going untested.
PRODUCTION_VALUES = {
    "upstream": "server 127.0.0.1:8000;",
    "http": "listen 80;",
    "https": "listen 443 ssl http2;",
    "certificate": f"/etc/letsencrypt/live/{SERVER_NAME}/fullchain.pem;",
    "key": f"/etc/letsencrypt/live/{SERVER_NAME}/privkey.pem;",
    "static": "alias /srv/parley/var/static/;",
}

# nginx's main configuration around Parley's: everything nginx would write goes into the test's
# directory, and one process does all the work, so it needs no root and no system paths.
MAIN_CONF = """\
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/parley.conf;
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    needs("nginx", found is not None, "install Debian's nginx (make system-packages does it)")
    assert found is not None
    return found


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for SERVER_NAME and its key, as PEM files in ``directory``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "fullchain.pem", directory / "privkey.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def render_site_conf(
    *, upstream_port: int, http_port: int, https_port: int, cert: Path, key: Path, static: Path
) -> str:
    """deploy/nginx.conf with this run's ports, certificate and static directory."""
    text = NGINX_CONF.read_text()
    replacements = {
        "upstream": f"server 127.0.0.1:{upstream_port};",
        "http": f"listen 127.0.0.1:{http_port};",
        "https": f"listen 127.0.0.1:{https_port} ssl http2;",
        "certificate": f"{cert};",
        "key": f"{key};",
        "static": f"alias {static}/;",
    }
    for what, production in PRODUCTION_VALUES.items():
        count = text.count(production)
        assert count == 1, f"deploy/nginx.conf should hold {production!r} once (the {what}), found {count}"
        text = text.replace(production, replacements[what])
    return text


@dataclass
class Nginx:
    """One nginx process in its own directory, in front of one Parley server."""

    directory: Path
    http_port: int
    https_port: int
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Nginx:
        binary = nginx_binary()
        conf = self.directory / "nginx.conf"
        check = subprocess.run(
            [binary, "-t", "-p", str(self.directory), "-c", str(conf)], capture_output=True, text=True, check=False
        )
        assert check.returncode == 0, f"nginx refuses the configuration:\n{check.stderr}"
        log = self.directory / "stderr.log"
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [binary, "-p", str(self.directory), "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT
            )
        wait_until_listening(self.https_port, self.proc, log)
        return self

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGQUIT)  # graceful: finish open requests, then exit
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def nginx_in_front(directory: Path, *, upstream_port: int, static: Path) -> Nginx:
    """Render deploy/nginx.conf into ``directory`` and start nginx on free ports, in front of ``upstream_port``."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed_certificate(directory)
    http_port, https_port = free_port(), free_port()
    site_conf = render_site_conf(
        upstream_port=upstream_port, http_port=http_port, https_port=https_port, cert=cert, key=key, static=static
    )
    (directory / "parley.conf").write_text(site_conf)
    (directory / "nginx.conf").write_text(MAIN_CONF.format(dir=directory))
    return Nginx(directory, http_port, https_port).start()


@pytest.fixture(scope="module")
def nginx_factory(tmp_path_factory: pytest.TempPathFactory):
    """Start nginx in front of a server: ``start(upstream_port=…, static=…)``; all are stopped at the end."""
    started: list[Nginx] = []

    def start(*, upstream_port: int, static: Path) -> Nginx:
        nginx = nginx_in_front(tmp_path_factory.mktemp("nginx"), upstream_port=upstream_port, static=static)
        started.append(nginx)
        return nginx

    yield start
    for nginx in started:
        nginx.stop()
