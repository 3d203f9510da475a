from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from parley.api.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("parley.accounts.urls")),
    path("api/", api.urls),
    path("", include("parley.ops.urls")),
    # The demo shop (the article's order-status notifications).
    path("orders/", include("orders.urls")),
    path("search/", include("parley.search.urls")),
    path("", include("parley.web.urls")),
]
