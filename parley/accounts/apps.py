from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-up, log-in and API tokens for clients that are not browsers."""

    name = "parley.accounts"
    label = "accounts"
    verbose_name = "Accounts and API tokens"

    def ready(self) -> None:
        """Count failed log-ins, for the log-in throttle (``LoginThrottleBackend``); keep usernames'
        look-alike keys, for guest names (``on_user_saved``)."""
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_login_failed
        from django.db.models.signals import post_save

        from parley.accounts.login_throttle import on_login_failed
        from parley.accounts.names import on_user_saved

        user_login_failed.connect(on_login_failed, dispatch_uid="parley.accounts.login_throttle")
        post_save.connect(on_user_saved, sender=get_user_model(), dispatch_uid="parley.accounts.names")
