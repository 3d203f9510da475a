from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from parley.accounts import views
from parley.accounts.login_throttle import LoginForm

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="parley/accounts/login.html", authentication_form=LoginForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
