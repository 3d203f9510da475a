"""The sign-up form of Parley's own account pages, for whatever user model the host has."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.forms import BaseUserCreationForm, UsernameField
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.forms import BoundField

from parley.accounts.users import User, name_lookup, users

# What Django's own usernames may hold, said shorter than their help text.
DJANGO_USERNAME_HINT = "Letters, digits and @ . + - _ only."

if TYPE_CHECKING:
    _UserCreationForm = BaseUserCreationForm[User]
else:  # Django's forms are generic for type checkers only (without django_stubs_ext in the host)
    _UserCreationForm = BaseUserCreationForm


class SignupForm(_UserCreationForm):
    """Django's sign-up form: the user model's name (``USERNAME_FIELD``), the ``REQUIRED_FIELDS``
    that may not be blank, and a password typed twice. Build it for the host's model with
    ``signup_form_class()``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model = self._meta.model
        validators = getattr(model._meta.get_field(model.USERNAME_FIELD), "validators", ())
        if any(isinstance(validator, UnicodeUsernameValidator) for validator in validators):
            self.fields[model.USERNAME_FIELD].help_text = DJANGO_USERNAME_HINT

    def account_fields(self) -> list[BoundField]:
        """The fields before the passwords: the name first, then what the model requires."""
        return [self[field] for field in self._meta.fields or ()]

    def clean(self) -> dict[str, Any]:
        """Refuse a name that differs from a registered one only in case, as Django's
        ``UserCreationForm`` does for its own user model (its check names ``username``)."""
        super().clean()
        cleaned = self.cleaned_data
        field = self._meta.model.USERNAME_FIELD
        name = cleaned.get(field)
        if name and users().filter(**{name_lookup("iexact"): name}).exists():
            self.add_error(field, self.instance.unique_error_message(self._meta.model, [field]))
        return cleaned


def signup_form_class() -> type[SignupForm]:
    """``SignupForm`` for the host's user model (read now, not when this module was imported)."""
    user_model = get_user_model()
    name = user_model.USERNAME_FIELD
    # REQUIRED_FIELDS are what createsuperuser asks for; only those that may not be blank are
    # needed to sign up (Django's own user model requires an e-mail there, but may leave it blank).
    required = [
        field for field in user_model.REQUIRED_FIELDS if not getattr(user_model._meta.get_field(field), "blank", True)
    ]
    meta = type("Meta", (), {"model": user_model, "fields": (name, *required), "field_classes": {name: UsernameField}})
    return type("SignupForm", (SignupForm,), {"Meta": meta})
