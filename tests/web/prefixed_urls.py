"""A host's URLconf that mounts Parley under a prefix: its pages at /chat/, its API at /chat/api/."""

from __future__ import annotations

from django.urls import include, path

# The site's URLconf first: it adds the demo shop's router to the API, which django-ninja allows
# only before the API's URLs are first built.
import config.urls  # noqa: F401

urlpatterns = [
    path("accounts/", include("parley.accounts.urls")),
    path("chat/", include("parley.urls")),
]
