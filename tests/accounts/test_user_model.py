"""Parley reads the host's user model through parley/accounts/users.py: names by USERNAME_FIELD,
activity and e-mail only where the model has them. (A custom AUTH_USER_MODEL cannot be swapped in
this suite; tests/integration runs Parley against one.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import parley
from parley.accounts.forms import DJANGO_USERNAME_HINT, signup_form_class
from parley.accounts.users import active_lookup, name_lookup, user_email, users_active

pytestmark = pytest.mark.django_db

PACKAGE = Path(parley.__file__).parent


def test_names_are_looked_up_through_the_username_field():
    assert name_lookup() == "username"
    assert name_lookup("iexact") == "username__iexact"
    assert name_lookup("iexact", through="user") == "user__username__iexact"
    assert active_lookup(through="user") == {"user__is_active": True}


def test_inactive_users_are_left_out_and_blank_addresses_are_no_address(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    bob.is_active = False
    bob.save()
    assert list(users_active()) == [alice]
    alice.email = ""
    assert user_email(alice) == ""
    alice.email = "alice@example.com"
    assert user_email(alice) == "alice@example.com"


def test_the_sign_up_form_asks_for_the_models_name_field_and_refuses_a_name_differing_in_case(make_user):
    make_user("alice")
    form_class = signup_form_class()
    form = form_class({"username": "ALICE", "password1": "a-long-passphrase-9", "password2": "a-long-passphrase-9"})
    assert [field.name for field in form.account_fields()] == ["username"]
    assert form["username"].help_text == DJANGO_USERNAME_HINT
    assert not form.is_valid()
    assert "already exists" in str(form.errors["username"])


FIELD_LISTS = {"values", "values_list", "order_by"}
QUERIES = {"Q", "filter", "exclude", "get", "get_or_create", "create", "update_or_create", *FIELD_LISTS}


def _offences(tree: ast.AST) -> list[str]:
    """Django's User imported, a user's ``.username``/``.email``/``.is_staff`` read, or a ``username``
    lookup in a query."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.contrib.auth.models":
            found += [f"imports {alias.name}" for alias in node.names if alias.name == "User"]
        # A request's payload may call its own field username.
        payload = isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "payload"
        if isinstance(node, ast.Attribute) and node.attr in ("username", "email") and not payload:
            found.append(f".{node.attr}")
        # AbstractBaseUser has no is_staff: it is read with getattr(user, "is_staff", False).
        if isinstance(node, ast.Attribute) and node.attr == "is_staff" and isinstance(node.ctx, ast.Load):
            found.append(".is_staff")
        called = getattr(node.func, "attr", getattr(node.func, "id", "")) if isinstance(node, ast.Call) else ""
        if called in QUERIES:
            found += [f"{kw.arg}=" for kw in node.keywords if kw.arg and kw.arg.split("__")[0] == "username"]
            if called in FIELD_LISTS:
                found += [
                    repr(a.value) for a in node.args if isinstance(a, ast.Constant) and "username" in str(a.value)
                ]
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "__username" in node.value:
            found.append(repr(node.value))
    return found


def test_no_module_names_djangos_user_model_or_its_username_field():
    """Every query goes through name_lookup and get_user_model(): a host's model may have no
    ``username`` (nor ``email``) field. Requests and forms may still call a field "username"."""
    offences = {}
    for path in PACKAGE.rglob("*.py"):
        relative = str(path.relative_to(PACKAGE))
        if "migrations" in path.parts or relative == "accounts/users.py":  # its User is for mypy only
            continue
        found = _offences(ast.parse(path.read_text()))
        if found:
            offences[relative] = found
    assert offences == {}
