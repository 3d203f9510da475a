"""Parley's HTTP API (django-ninja) under ``/api/``: see ``parley.api.api``."""
