"""Parley's pages run on the JavaScript client: what Django serves under ``parley/client/`` is the
npm package's modules (clients/js/src) themselves. A build copies them into the package (setup.py;
tests/integration/test_host_project.py checks the wheel); in this checkout the example project
serves them from their source, so there is no copy to fall out of step."""

from __future__ import annotations

from pathlib import Path

from django.contrib.staticfiles import finders

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "clients" / "js" / "src"


def test_the_page_finds_each_client_module_at_its_source() -> None:
    # What the page imports (connection.js: "./client/index.js") is what the static finders serve.
    modules = sorted(SOURCE.glob("*.js"))
    assert modules, "clients/js/src has no modules"
    for module in modules:
        found = finders.find(f"parley/client/{module.name}")
        assert found is not None, f"staticfiles does not find parley/client/{module.name}"
        assert Path(found).resolve() == module.resolve()


def test_the_repository_keeps_no_copy_of_the_client() -> None:
    copy = ROOT / "parley" / "static" / "parley" / "client"
    # A copy here would drift from clients/js/src, and a build would ship its stale extra files.
    assert not copy.exists(), f"remove {copy}: builds copy clients/js/src in (setup.py)"
