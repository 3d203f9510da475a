from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-up, log-in and API tokens for clients that are not browsers."""

    name = "parley.accounts"
    label = "accounts"
    verbose_name = "Accounts and API tokens"
