"""A host's URLconf that mounts Parley under prefixes: its pages at /chat/, its API at /talk/api/."""

from __future__ import annotations

from django.urls import include, path

# The site's URLconf first: it adds the demo shop's router to the API, which django-ninja allows
# only before the API's URLs are first built (here, below).
import config.urls  # noqa: F401
from parley.api.api import api

urlpatterns = [
    path("accounts/", include("parley.accounts.urls")),
    path("talk/api/", api.urls),
    path("chat/", include("parley.urls")),
]
