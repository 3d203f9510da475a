"""Parley's pages run on the JavaScript client: the static files Django serves under
``parley/client/`` are the npm package's modules (clients/js/src) byte for byte, copied by
``make client-static``."""

from __future__ import annotations

from pathlib import Path

from django.contrib.staticfiles import finders

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "clients" / "js" / "src"
SERVED = ROOT / "parley" / "static" / "parley" / "client"
FIX = "the package's source (clients/js/src) is the truth: run `make client-static`"


def test_the_served_client_is_the_packages_source_byte_for_byte() -> None:
    source = {path.name: path.read_bytes() for path in SOURCE.glob("*.js")}
    served = {path.name: path.read_bytes() for path in SERVED.glob("*.js")}
    assert source, "clients/js/src has no modules"
    assert sorted(served) == sorted(source), FIX
    changed = [name for name in source if served[name] != source[name]]
    assert changed == [], f"{', '.join(changed)} differ: {FIX}"


def test_the_page_finds_the_client_through_staticfiles() -> None:
    # What the page imports (connection.js: "./client/index.js") is what the app's static finder serves.
    found = finders.find("parley/client/index.js")
    assert found is not None
    assert Path(found).read_bytes() == (SOURCE / "index.js").read_bytes()
