"""The host's user model, as Parley reads it: whatever ``AUTH_USER_MODEL`` names, looked up with
``get_user_model()`` when a query runs (never when a module is imported).

Parley needs of it only what ``AbstractBaseUser`` gives: a primary key, ``get_username()`` and a
``USERNAME_FIELD`` holding a unique string, the name people see, @mention, invite and message by.
``is_active``, ``is_staff`` and the e-mail field (``get_email_field_name()``) are read when the
model has them: without ``is_active`` every user counts as active, without an e-mail address no
mention e-mail is sent. Queries name users through ``name_lookup``, never ``username`` by hand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet

if TYPE_CHECKING:
    # mypy checks Parley against the example project, whose user model is Django's own.
    from django.contrib.auth.models import User
else:
    # At run time it is the host's model: any subclass of this.
    from django.contrib.auth.base_user import AbstractBaseUser as User

__all__ = ["User", "active_lookup", "name_lookup", "user_email", "users", "users_active"]


def name_lookup(lookup: str = "", *, through: str = "") -> str:
    """The ORM lookup of a user's name: ``name_lookup("iexact")`` is ``"username__iexact"`` for
    Django's user model and ``"handle__iexact"`` for one whose ``USERNAME_FIELD`` is ``handle``;
    ``through="user"`` reaches it from a model's ``user`` relation (``"user__handle"``)."""
    parts = [through, get_user_model().USERNAME_FIELD, lookup]
    return "__".join(part for part in parts if part)


def active_lookup(*, through: str = "") -> dict[str, Any]:
    """The filter keeping active users (``{"is_active": True}``), or nothing for a user model
    without an ``is_active`` field, whose users are all active (``AbstractBaseUser.is_active``)."""
    try:
        get_user_model()._meta.get_field("is_active")
    except FieldDoesNotExist:
        return {}
    return {f"{through}__is_active" if through else "is_active": True}


def users() -> QuerySet[User]:
    """Every user of the host's user model."""
    return get_user_model()._default_manager.all()


def users_active() -> QuerySet[User]:
    """The users who may sign in (``active_lookup``)."""
    return users().filter(**active_lookup())


def user_email(user: User) -> str:
    """The user's e-mail address, or "" when their model has no e-mail field or it is blank."""
    return str(getattr(user, user.get_email_field_name(), "") or "")
