"""Parley's own sign-up page (log-in and log-out are Django's views with Parley's templates, in
``parley/accounts/urls.py``): optional, for a host without account pages of its own."""

from __future__ import annotations

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from parley.accounts.forms import signup_form_class


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and sign in with it."""
    form = signup_form_class()(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("parley:index")
    return render(request, "parley/accounts/signup.html", {"form": form})
