"""Fixtures for the load checks of bench/ that run under pytest (``make bench-tests``): the
end-to-end ones (seeded sites and their real servers), imported from ``tests.e2e``."""

from tests.e2e.conftest import site_factory  # noqa: F401
