from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from parley.accounts.models import ApiToken
from parley.accounts.users import name_lookup


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Tokens are listed by prefix; the secret itself is never stored."""

    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    readonly_fields = ["prefix", "digest", "created_at", "last_used_at"]

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        # The host's user model names its users by its USERNAME_FIELD, not always "username".
        return [name_lookup(through="user"), "name", "prefix"]
