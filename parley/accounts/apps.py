from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-up, log-in and API tokens for clients that are not browsers."""

    name = "parley.accounts"
    label = "accounts"
    verbose_name = "Accounts and API tokens"

    def ready(self) -> None:
        """Count failed log-ins and give successful ones their slot back, for the log-in throttle
        (``LoginThrottleBackend``); keep usernames' look-alike keys, for guest names (``on_user_saved``);
        close the sockets of a sign-in that ends (``parley.accounts.signals``)."""
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
        from django.db.models.signals import post_delete, post_save, pre_save

        from parley.accounts import signals
        from parley.accounts.login_throttle import on_logged_in, on_login_failed
        from parley.accounts.names import on_user_saved

        user_login_failed.connect(on_login_failed, dispatch_uid="parley.accounts.login_throttle")
        user_logged_in.connect(on_logged_in, dispatch_uid="parley.accounts.login_throttle")
        user_model = get_user_model()
        user_logged_out.connect(signals.on_logged_out, dispatch_uid="parley.accounts.sockets.logout")
        pre_save.connect(signals.before_user_saved, sender=user_model, dispatch_uid="parley.accounts.sockets.pre")
        post_save.connect(signals.after_user_saved, sender=user_model, dispatch_uid="parley.accounts.sockets.post")
        post_save.connect(on_user_saved, sender=user_model, dispatch_uid="parley.accounts.names")
        post_delete.connect(signals.after_user_deleted, sender=user_model, dispatch_uid="parley.accounts.sockets.del")
