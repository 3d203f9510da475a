#!/usr/bin/env python
"""Django's command-line utility for Parley's example project (example/)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The standalone site (config/) and the demo shop (orders/) are the example project in example/.
EXAMPLE = Path(__file__).resolve().parent / "example"


def main() -> None:
    sys.path.insert(0, str(EXAMPLE))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
