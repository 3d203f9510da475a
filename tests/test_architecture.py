"""The floors of docs/architecture.md: import-linter's contracts in pyproject.toml, run as a test.

A contract names which floor may import which, and that no two packages (nor two modules of one
package) import each other around a circle. A change that breaks one fails here, with import-linter's
report of the imports that break it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# What the lint-imports script runs, started from this interpreter so that it is the same one.
LINT_IMPORTS = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"


def test_the_floors_hold_and_nothing_imports_in_a_circle():
    # In its own interpreter: inside the test process, zope.interface (which Daphne brings) gives
    # classes a ``__provides__`` that import-linter's option check trips over.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "example")])}
    lint = subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--config", "pyproject.toml", "--no-cache"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_every_package_and_module_of_parley_stands_on_a_floor():
    with (REPO / "pyproject.toml").open("rb") as config:
        contracts = tomllib.load(config)["tool"]["importlinter"]["contracts"]
    layers = next(contract["layers"] for contract in contracts if contract["id"] == "floors")
    named = {name.strip(" ()") for layer in layers for name in re.split(r"[|:]", layer)}
    package = REPO / "parley"
    present = {
        path.stem if path.is_file() else path.name
        for path in package.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    }
    assert present - named == set(), "add these to a floor in pyproject.toml and docs/architecture.md"
