from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from orders import api as orders_api
from parley.accounts.login_throttle import AdminLoginForm
from parley.api.api import api

# The demo shop's endpoints join Parley's API (one OpenAPI document); the library never imports the shop.
api.add_router("", orders_api.router)
# The admin's log-in says how long to wait when failed log-ins are throttled, not "wrong password".
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("parley.accounts.urls")),
    path("", include("parley.ops.urls")),
    # The demo shop (the article's order-status notifications).
    path("orders/", include("orders.urls")),
    # Parley's pages and API (namespace "parley"): the rooms at /, /chat/<room>/, search at /search/, the API at /api/.
    path("", include("parley.urls")),
]
