"""Signal receivers that end a user's sockets when their sign-in ends, whichever way it ends.

A log-out (``user_logged_out``), a new password, a deactivation (a save of the user that changes
``password`` or ``is_active``: the admin, a form, ``manage.py changepassword``, any ``save()``)
and a deletion each call a service in ``parley.accounts.services``; the services publish after
commit. A ``QuerySet.update()`` of users sends no signal: call ``user_sockets_close`` after it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from parley.accounts.services import (
    session_sockets_close,
    stale_session_sockets_close,
    user_sockets_close,
    username_key_save,
)
from parley.accounts.users import active_lookup

# What a user's row held before a save that may change how they sign in: (password, is_active).
_STORED = "_parley_stored_credentials"


def on_logged_out(sender: Any, request: HttpRequest | None, user: AbstractBaseUser | None, **kwargs: Any) -> None:
    """Close the sockets of the session being logged out (before Django flushes it)."""
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if user is not None and session_key:
        session_sockets_close(user_id=int(user.pk), session_key=session_key)


def before_user_saved(
    sender: type[AbstractBaseUser], instance: AbstractBaseUser, raw: bool, update_fields: Any, **kwargs: Any
) -> None:
    """Read the stored password and active flag, when this save may change them."""
    if raw or instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # a log-in's last_login, say: nothing to read
    # The host's user model: ``is_active`` is a field of Django's (AbstractUser), not of every
    # model; without one, every user stays active.
    rows = sender._default_manager.filter(pk=instance.pk)
    stored = rows.values_list("password", *active_lookup()).first()
    if stored is not None:
        instance.__dict__[_STORED] = (stored[0], stored[1] if len(stored) > 1 else True)


def after_user_saved(sender: type[AbstractBaseUser], instance: AbstractBaseUser, **kwargs: Any) -> None:
    """Close sockets that a deactivation or a new password signs out."""
    stored = instance.__dict__.pop(_STORED, None)
    if stored is None:
        return
    password, was_active = stored
    if was_active and not instance.is_active:
        user_sockets_close(user_id=int(instance.pk), detail="This account was deactivated.")
    elif instance.password != password:
        stale_session_sockets_close(user_id=int(instance.pk), session_hash=instance.get_session_auth_hash())


def after_user_deleted(sender: type[AbstractBaseUser], instance: AbstractBaseUser, **kwargs: Any) -> None:
    """Close every socket of a deleted user."""
    user_sockets_close(user_id=int(instance.pk), detail="This account was deleted.")


def accounts_signals_connect() -> None:
    """Connect the receivers above, the log-in throttle's (``on_login_failed`` counts a failure,
    ``on_logged_in`` gives a success its slot back) and the guest-name keys' (``on_user_saved``) to
    the host's user model; called once from ``ParleyConfig.ready``."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
    from django.db.models.signals import post_delete, post_save, pre_save

    from parley.accounts.login_throttle import on_logged_in, on_login_failed

    user_login_failed.connect(on_login_failed, dispatch_uid="parley.accounts.login_throttle")
    user_logged_in.connect(on_logged_in, dispatch_uid="parley.accounts.login_throttle")
    user_model = get_user_model()
    user_logged_out.connect(on_logged_out, dispatch_uid="parley.accounts.sockets.logout")
    pre_save.connect(before_user_saved, sender=user_model, dispatch_uid="parley.accounts.sockets.pre")
    post_save.connect(after_user_saved, sender=user_model, dispatch_uid="parley.accounts.sockets.post")
    post_save.connect(on_user_saved, sender=user_model, dispatch_uid="parley.accounts.names")
    post_delete.connect(after_user_deleted, sender=user_model, dispatch_uid="parley.accounts.sockets.del")


def on_user_saved(sender: type[Any], instance: Any, created: bool, update_fields: Any = None, **_: Any) -> None:
    """``post_save`` of the user model: key the username again when it may have changed (not on the
    saves that only touch other fields, such as ``last_login`` at every log-in)."""
    if update_fields is not None and instance.USERNAME_FIELD not in update_fields:
        return
    username_key_save(user_id=instance.pk, username=instance.get_username())
