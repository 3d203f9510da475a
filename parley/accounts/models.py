"""API tokens (bearer credentials for clients that are not browsers) and the look-alike keys of usernames."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A revocable API token. Only a SHA-256 digest of the secret is stored; the secret is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    # The first characters of the token, kept in clear so a person can tell their tokens apart.
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class UsernameKey(models.Model):
    """A registered username's ``name_key`` (parley/accounts/names.py), kept so that a guest's name
    is checked against every username at once, by an index, whatever its case or look-alike letters.

    Kept up to date when a user is saved (``username_key_save``); written for existing users by the
    migration that made the table.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+")
    key = models.CharField(max_length=300, db_index=True)

    def __str__(self) -> str:
        return self.key
