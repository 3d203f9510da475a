"""The floors of docs/architecture.md: import-linter's contracts in pyproject.toml, run as a test.

A contract names which floor may import which, and that no two packages (nor two modules of one
package) import each other around a circle. A change that breaks one fails here, with import-linter's
report of the imports that break it.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from importlinter.cli import lint_imports

REPO = Path(__file__).resolve().parent.parent


def test_the_floors_hold_and_nothing_imports_in_a_circle():
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        result = lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True)
    assert result == 0, report.getvalue()
