from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("parley.accounts.urls")),
    path("", include("parley.ops.urls")),
    path("", include("parley.web.urls")),
]
