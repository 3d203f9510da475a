"""Parley added to someone else's project, exactly as the README's "Add Parley to your project" says.

The wheel is built and installed into a fresh virtualenv beside a project made by ``django-admin
startproject mysite``, which has what a team already has (``host/``): a custom user model (a
``handle``, no ``username``), its own ``accounts`` and ``orders`` apps, its own layout, log-in page
and WebSocket consumer. Every line of Parley's part comes from the README's code blocks (the ones
that name a file), so the README and this test cannot drift apart. Then, on SQLite and PostgreSQL:
``migrate``, ``check --deploy`` with production settings, a WebSocket round trip under
``/chat/ws/`` with the host's session, the host's own consumer, ``notify()`` from a host view
reaching ``{% parley_bell %}`` on a host page in Chromium, and Parley's chat page inside the host's
layout through an overridden ``parley/base.html``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from conftest import needs, port_open
from tests.browser.pages import CHROMIUM, LAUNCH_ARGS, WAIT_MS
from tests.frames import received_frame
from tests.servers import free_port, wait_until_listening

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(900)]

REPOSITORY = Path(__file__).resolve().parents[2]
HOST_FILES = Path(__file__).parent / "host"
SECTION = "## Add Parley to your project"
# A code block that names a file: ```python mysite/settings.py
NAMED_BLOCK = re.compile(r"^```\w+ (?P<path>[\w./-]+)\n(?P<code>.*?)^```", re.M | re.S)
PASSWORD = "host-pass-4821"
POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"


def readme_blocks() -> list[tuple[str, str]]:
    """(file, code) for each named code block of the README's section on adding Parley."""
    readme = (REPOSITORY / "README.md").read_text()
    start = readme.index(SECTION)
    end = readme.find("\n## ", start + len(SECTION))
    blocks = [(match["path"], match["code"]) for match in NAMED_BLOCK.finditer(readme[start:end])]
    assert blocks, "the README's section shows no code blocks naming a file"
    return blocks


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a shell on a fresh machine: nothing of this test run's Django set-up."""
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    return {**keep, "PYTHONDONTWRITEBYTECODE": "1", **extra}


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Parley's sdist, and its wheel built from that sdist, from this checkout (``python -m build``)."""
    out = tmp_path_factory.mktemp("dist")
    source = tmp_path_factory.mktemp("source") / "parley"
    # A copy without the checkout's virtualenv and runtime files, as a build from a clean clone.
    shutil.copytree(
        REPOSITORY,
        source,
        ignore=shutil.ignore_patterns(".venv", ".git", "var", "node_modules", "*.egg-info", "build", "__pycache__"),
    )
    builder = tmp_path_factory.mktemp("builder")
    run(sys.executable, "-m", "venv", builder, cwd=builder)
    run(builder / "bin" / "pip", "install", "--quiet", "build", cwd=builder)
    # Neither --sdist nor --wheel: the sdist first, then the wheel from the unpacked sdist, so the
    # wheel shows what the sdist holds (PyPI users who build from it get this wheel).
    run(builder / "bin" / "python", "-m", "build", "--outdir", out, source, cwd=out)
    [sdist] = out.glob("django_parley-*.tar.gz")
    [built] = out.glob("django_parley-*.whl")
    return sdist, built


@pytest.fixture(scope="module")
def wheel(dists: tuple[Path, Path]) -> Path:
    """Parley's wheel, built from its sdist."""
    return dists[1]


CLIENT_MODULES = sorted((REPOSITORY / "clients" / "js" / "src").glob("*.js"))


def test_the_wheel_holds_one_top_level_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"parley"}
    assert "parley/templates/parley/base.html" in names
    assert "parley/static/parley/bell.js" in names
    # The pages' client is the npm package's own modules, as they are in clients/js/src (setup.py
    # copies them in at build time; the repository keeps no copy).
    assert CLIENT_MODULES, "clients/js/src has no modules"
    assert sorted(name for name in names if name.startswith("parley/static/parley/client/")) == [
        f"parley/static/parley/client/{module.name}" for module in CLIENT_MODULES
    ]
    wheel_file = zipfile.ZipFile(wheel)
    for module in CLIENT_MODULES:
        assert wheel_file.read(f"parley/static/parley/client/{module.name}") == module.read_bytes()


def test_the_sdist_carries_the_client_source_and_the_build_step(dists: tuple[Path, Path]) -> None:
    sdist, _ = dists
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"setup.py", "MANIFEST.in", "pyproject.toml"} <= names
    assert {f"clients/js/src/{module.name}" for module in CLIENT_MODULES} <= names


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel and the extras a host on Uvicorn and PostgreSQL picks."""
    where = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", where, cwd=where)
    run(where / "bin" / "pip", "install", "--quiet", f"{wheel}[uvicorn,postgres]", cwd=where)
    return where


def host_project(venv: Path, where: Path, database_name: str | None) -> Path:
    """``startproject mysite``, the host's own apps and files, then Parley's part from the README."""
    where.mkdir()
    run(venv / "bin" / "django-admin", "startproject", "mysite", where, cwd=where.parent)
    for app in ("accounts", "orders"):
        run(venv / "bin" / "python", "manage.py", "startapp", app, cwd=where)
    shutil.copytree(HOST_FILES, where, dirs_exist_ok=True)
    settings = where / "mysite" / "settings.py"
    urls = where / "mysite" / "urls.py"
    # What the host had before Parley: its apps, user model, layout, log-in and pages.
    with settings.open("a") as out:
        out.write(
            "\n# The host's own, before Parley.\n"
            'INSTALLED_APPS += ["accounts", "orders"]\n'
            'AUTH_USER_MODEL = "accounts.User"\n'
            'TEMPLATES[0]["DIRS"] = [BASE_DIR / "templates"]\n'
            'LOGIN_URL = "login"\n'
            'LOGIN_REDIRECT_URL = "/"\n'
        )
        if database_name:
            out.write(
                "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'HOST': '127.0.0.1',"
                f" 'USER': 'postgres', 'NAME': {database_name!r}}}}}\n"
            )
    text = urls.read_text() + (
        "\nimport orders.views  # noqa: E402\nfrom django.urls import include  # noqa: E402\n\n"
        "urlpatterns += [\n"
        '    path("accounts/", include("django.contrib.auth.urls")),\n'
        '    path("", orders.views.home, name="home"),\n'
        '    path("orders/ship/", orders.views.ship, name="ship"),\n'
        "]\n"
    )
    urls.write_text(text)
    # Parley's part, from the README as written: settings and URLs are added to, the rest are files.
    for path, code in readme_blocks():
        target = where / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.endswith(("settings.py", "urls.py")):
            with target.open("a") as out:
                out.write(f"\n# From Parley's README.\n{code}")
        else:
            target.write_text(code)
    return where


def manage(venv: Path, project: Path, *args: str, settings: str = "mysite.settings") -> str:
    return run(venv / "bin" / "python", "manage.py", *args, cwd=project, env=clean_env(DJANGO_SETTINGS_MODULE=settings))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def host(
    request: pytest.FixtureRequest, venv: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, str]]:
    """The host project, migrated, with users alice and bob and a room ``lobby``, served by Uvicorn:
    (project directory, base URL)."""
    tmp_path = tmp_path_factory.mktemp(f"host-{request.param}")
    database_name = None
    if request.param == "postgresql":
        needs("PostgreSQL", port_open("127.0.0.1", 5432), "start PostgreSQL on 127.0.0.1:5432")
        database_name = f"parley_host_{os.getpid()}"
        postgres_admin(f"DROP DATABASE IF EXISTS {database_name}", f"CREATE DATABASE {database_name}")
    project = host_project(venv, tmp_path / "mysite", database_name)
    manage(venv, project, "makemigrations", "accounts", "-v0")  # the host's own user model
    manage(venv, project, "migrate", "--noinput", "-v0")
    create = "from django.contrib.auth import get_user_model; get_user_model().objects.create_user"
    for handle in ("alice", "bob"):
        manage(venv, project, "shell", "-c", f"{create}({handle!r}, {PASSWORD!r})")
    manage(venv, project, "createroom", "lobby", "--title", "Lobby")
    port = free_port()
    log = tmp_path / "uvicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(venv / "bin" / "uvicorn"), "mysite.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
            cwd=project,
            env=clean_env(DJANGO_SETTINGS_MODULE="mysite.settings"),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_listening(port, server, log)
        yield project, f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        if database_name:
            postgres_admin(f"DROP DATABASE IF EXISTS {database_name} WITH (FORCE)")


def postgres_admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def test_check_deploy_passes_with_production_settings(host: tuple[Path, str], venv: Path) -> None:
    project, _ = host
    output = manage(venv, project, "check", "--deploy", "--fail-level", "WARNING", settings="mysite.production")
    assert "System check identified no issues" in output, output


async def session_socket(base: str, path: str, cookie: str) -> websockets.ClientConnection:
    origin = base
    return await websockets.connect(
        base.replace("http", "ws", 1) + path, origin=websockets.Origin(origin), additional_headers={"Cookie": cookie}
    )


def test_the_hosts_users_chat_and_get_notified_inside_the_hosts_layout(host: tuple[Path, str]) -> None:
    from playwright.sync_api import Response, expect, sync_playwright

    needs("Chromium", CHROMIUM.exists(), "apt-get install -y chromium")
    _, base = host
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        page = browser.new_page()
        client_modules: list[tuple[str, int]] = []

        def note_client_module(response: Response) -> None:
            if "/parley/client/" in response.url:
                client_modules.append((response.url.rsplit("/", 1)[-1], response.status))

        page.on("response", note_client_module)
        # The host's own log-in page, with its own user model's handle.
        page.goto(f"{base}/chat/chat/lobby/")
        assert "/accounts/login/" in page.url
        page.locator("#id_username").fill("alice")
        page.locator("#id_password").fill(PASSWORD)
        page.locator("#host-login button").click()

        # Parley's room, inside the host's layout (the README's parley/base.html), live over /chat/ws/.
        expect(page.locator("#host-header")).to_contain_text("alice", timeout=WAIT_MS)
        expect(page.locator("#connection")).to_have_text("Live", timeout=WAIT_MS)
        # Live through the package's client, served from the wheel's static files.
        assert ("client.js", 200) in client_modules
        page.locator("#body").fill("hello from the host's layout")
        page.locator("#body").press("Enter")
        expect(page.locator("#messages .message .body").last).to_have_text(
            "hello from the host's layout", timeout=WAIT_MS
        )
        # A file goes up to the API under the host's prefix and comes back as a link beside the pages.
        page.locator("#attach-input").set_input_files(
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"notes from the host\n"}
        )
        expect(page.locator("#uploads .upload.uploaded")).to_have_count(1, timeout=WAIT_MS)
        page.locator("#body").press("Enter")
        link = page.locator("#messages .message .attachment-file").last
        expect(link).to_contain_text("notes.txt", timeout=WAIT_MS)
        assert (link.get_attribute("href") or "").startswith("/chat/files/")
        assert page.request.get(f"{base}{link.get_attribute('href')}").body() == b"notes from the host\n"

        # The host's own page, with {% parley_bell %} in the host's header; a host view's notify()
        # reaches it live, worded as the host registered the kind (the README's orders/apps.py).
        page.goto(f"{base}/")
        bell = page.locator("#host-bell")
        expect(bell.locator(".bell-count")).to_be_hidden(timeout=WAIT_MS)
        # The bell says it is live once its socket has answered.
        expect(bell.locator(".bell[data-live='true']")).to_have_count(1, timeout=WAIT_MS)
        status = page.evaluate(
            """async () => {
                const csrf = document.cookie.match(/csrftoken=([^;]+)/)[1];
                const response = await fetch("/orders/ship/", {method: "POST", headers: {"X-CSRFToken": csrf}});
                return response.status;
            }"""
        )
        assert status == 200
        expect(bell.locator(".bell-count")).to_have_text("1", timeout=WAIT_MS)
        bell.locator(".bell-button").click()
        notice = bell.locator(".bell-list .bell-text").first
        expect(notice).to_have_text("Order #7 is now shipped.", timeout=WAIT_MS)
        assert notice.get_attribute("href") == f"{base}/orders/7/"
        cookies = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
        browser.close()

    async def round_trip() -> tuple[dict, str]:
        # The host's session on a plain client: Parley's socket under /chat/ws/, and the host's own.
        async with await session_socket(base, "/chat/ws/", cookies) as socket:
            await socket.send(json.dumps({"type": "subscribe", "room": "lobby", "since": 0, "ref": "s"}))
            frame: dict = {}
            while frame.get("type") != "message":
                frame = received_frame(await asyncio.wait_for(socket.recv(), 5))
        async with await session_socket(base, "/ws/echo/", cookies) as echo:
            await echo.send("hi")
            answer = await asyncio.wait_for(echo.recv(), 5)
        return frame, str(answer)

    message, echoed = asyncio.run(round_trip())
    assert (message["body"], message["author"]["name"]) == ("hello from the host's layout", "alice")
    assert echoed == "echo: hi"
