"""Fixtures of the HTTP API tests: callers with tokens or sessions, and rate limits off by default."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from parley.accounts.services import token_issue


@pytest.fixture(autouse=True)
def _no_api_rate_limit(settings: Any) -> None:
    """Most tests make many calls in a row; the rate limit has its own tests."""
    settings.PARLEY = {**settings.PARLEY, "API_RATE": None}


@pytest.fixture
def token_for() -> Callable[[User], str]:
    """A new API token's secret for a user."""
    return lambda user: token_issue(user=user).secret


class ApiClient:
    """Django's test client speaking JSON to /api/ with a bearer token (or none)."""

    def __init__(self, token: str | None = None, client: Client | None = None) -> None:
        self.client = client or Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **query: Any) -> Any:
        return self.client.get(f"/api{path}", query, headers=self.headers)

    def post(self, path: str, data: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self.client.post(
            f"/api{path}", data, content_type="application/json", headers={**self.headers, **(headers or {})}
        )

    def delete(self, path: str) -> Any:
        return self.client.delete(f"/api{path}", headers=self.headers)


@pytest.fixture
def api_as(token_for: Callable[[User], str]) -> Callable[[User | None], ApiClient]:
    """``api_as(alice)``: an ``ApiClient`` with a fresh token of alice; ``api_as(None)``: no auth."""
    return lambda user: ApiClient(token_for(user) if user is not None else None)
