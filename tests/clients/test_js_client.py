"""The JavaScript client (clients/js, npm package ``parley-client``): its own tests, run by Node's
test runner against real Parley servers they start with this Python, and its package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from conftest import needs

pytestmark = [pytest.mark.e2e]

PACKAGE = Path(__file__).resolve().parents[2] / "clients" / "js"


def npm(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``npm`` in the package with this interpreter as the tests' server Python."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env["PARLEY_PYTHON"] = sys.executable
    return subprocess.run(
        ["npm", *args], cwd=PACKAGE, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def succeeded(result: subprocess.CompletedProcess[str]) -> bool:
    return result.returncode == 0


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"


@pytest.fixture(scope="module")
def package() -> Path:
    """The package with its development dependencies installed (``npm ci`` when they are not)."""
    needs("Node.js", shutil.which("node") is not None and shutil.which("npm") is not None, "install node and npm")
    if not (PACKAGE / "node_modules").is_dir():
        installed = npm("ci", "--no-audit", "--no-fund", timeout=300)
        assert succeeded(installed), output(installed)
    return PACKAGE


@pytest.mark.timeout(300)
def test_npm_test_passes(package: Path) -> None:
    result = npm("test", timeout=280)
    assert succeeded(result), output(result)
    assert "# fail 0" in result.stdout, output(result)


@pytest.mark.timeout(120)
def test_npm_pack_makes_the_package(package: Path, tmp_path: Path) -> None:
    result = npm("pack", "--pack-destination", str(tmp_path), timeout=100)
    assert succeeded(result), output(result)
    tarballs = list(tmp_path.glob("parley-client-*.tgz"))
    assert len(tarballs) == 1, output(result)
    with tarfile.open(tarballs[0]) as tarball:
        names = set(tarball.getnames())
    for path in ("src/index.js", "src/client.js", "src/frames.d.ts", "index.d.ts", "README.md", "package.json"):
        assert f"package/{path}" in names, f"{path} is not in the package: {sorted(names)}"
