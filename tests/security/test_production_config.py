"""Production settings refuse to be unsafe: no start without a secret key, a clean ``check --deploy``
with the environment README documents, and cookies that are Secure, HttpOnly and SameSite over HTTPS."""

from __future__ import annotations

import http.client
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import BIN, REPO, ServerProcess, example_pythonpath, manage

# The production environment of README's "Deployment" section.
PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "chat.example.com",
    "DJANGO_HTTPS": "1",
}
SECRET_KEY_LINE = re.compile(r"^DJANGO_SECRET_KEY is not set: .+\.$")


def clean_env(**variables: str) -> dict[str, str]:
    """Nothing from the test run's environment but what a shell needs, plus ``variables``."""
    return {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONPATH": example_pythonpath(), **variables}


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "manage.py", "check"],
        [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", "0", "config.asgi:application"],
        [str(BIN / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1", "--port", "0"],
    ],
    ids=["manage.py check", "daphne", "uvicorn"],
)
def test_without_debug_nothing_starts_without_a_secret_key_and_says_so_in_one_line(command, tmp_path: Path):
    result = run(command, clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}"))
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert SECRET_KEY_LINE.match(lines[0]), lines[0]


def test_debug_runs_without_a_secret_key(tmp_path: Path):
    result = run(
        [sys.executable, "manage.py", "check"],
        clean_env(DJANGO_DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}"),
    )
    assert result.returncode == 0, result.stderr


def test_check_deploy_passes_with_the_documented_production_environment(tmp_path: Path):
    env = clean_env(**PRODUCTION_ENV, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("unsafe", "warning"),
    [({"DJANGO_HTTPS": "0"}, "security.W004"), ({"DJANGO_SECRET_KEY": "short-and-guessable"}, "security.W009")],
    ids=["without HTTPS", "with a weak secret key"],
)
def test_check_deploy_fails_when_production_is_unsafe(unsafe, warning, tmp_path: Path):
    env = clean_env(**{**PRODUCTION_ENV, **unsafe}, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert warning in result.stderr


def test_readme_documents_the_production_environment():
    deployment = (REPO / "README.md").read_text().split("## Deployment", 1)[1]
    for variable in PRODUCTION_ENV:
        assert f"export {variable}" in deployment or f" {variable}=" in deployment, variable
    assert "check --deploy" in deployment


# --- cookies over HTTPS, read from a real server's responses ------------------------------------


def request(server: ServerProcess, method: str, path: str, body: str = "", headers: dict[str, str] | None = None):
    """One request as it arrives through a TLS proxy (``X-Forwarded-Proto: https``)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers={"X-Forwarded-Proto": "https", **(headers or {})})
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode()
    finally:
        connection.close()


def set_cookies(headers) -> dict[str, set[str]]:
    """Each Set-Cookie's name and its attributes (lower-cased, values kept for SameSite)."""
    cookies: dict[str, set[str]] = {}
    for header in headers.get_all("Set-Cookie") or []:
        first, *attributes = [part.strip() for part in header.split(";")]
        cookies[first.split("=", 1)[0]] = {attribute.lower() for attribute in attributes}
    return cookies


@pytest.mark.e2e
def test_login_over_https_sets_secure_httponly_samesite_cookies(server_factory):
    env = {**PRODUCTION_ENV, "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "DJANGO_DEBUG": "0", "PARLEY_GUESTS": "0"}
    server = server_factory("uvicorn", **env)
    manage(server.env, "shell", "-c", "from parley.accounts.services import user_get_or_create as u; "
           "x = u(username='carol'); x.set_password('carol-https-password-1'); x.save()")  # fmt: skip

    status, headers, page = request(server, "GET", "/accounts/login/")
    assert status == 200
    assert "max-age=" in headers["Strict-Transport-Security"]
    csrf_cookie = headers["Set-Cookie"].split(";", 1)[0]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    origin = f"https://127.0.0.1:{server.port}"
    form = f"username=carol&password=carol-https-password-1&csrfmiddlewaretoken={token}"
    status, headers, _ = request(
        server,
        "POST",
        "/accounts/login/",
        form,
        {"Cookie": csrf_cookie, "Origin": origin, "Referer": f"{origin}/accounts/login/",
         "Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert status == 302, "the login did not succeed"
    cookies = set_cookies(headers)
    assert set(cookies) == {"sessionid", "csrftoken"}  # the session, and the CSRF token rotated at login
    for name, attributes in cookies.items():
        assert {"secure", "httponly", "samesite=lax"} <= attributes, (name, attributes)

    # Plain HTTP is redirected to HTTPS before anything is served.
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/accounts/login/")
    response = connection.getresponse()
    assert (response.status, response.headers["Location"]) == (301, f"https://127.0.0.1:{server.port}/accounts/login/")
    connection.close()
