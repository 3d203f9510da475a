"""Parley's own account pages, optional: sign-up, log-in and log-out, for a host without its own.

A host that wants them includes them (the example project does, at ``accounts/``) and points
Parley's links at them by name, in the namespace ``parley_accounts``::

    path("accounts/", include("parley.accounts.urls")),
    LOGIN_URL = "parley_accounts:login"
    PARLEY = {"SIGNUP_URL": "parley_accounts:signup", "LOGOUT_URL": "parley_accounts:logout"}
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from parley.accounts import views
from parley.accounts.login_throttle import LoginForm

app_name = "parley_accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="parley/accounts/login.html", authentication_form=LoginForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
