"""``manage.py check`` explains what a host project forgot."""

from __future__ import annotations

from parley.checks import parley_host_checks


def ids(settings_problems):
    return [problem.id for problem in settings_problems]


def test_the_example_site_passes():
    assert parley_host_checks() == []


def test_channels_missing_from_installed_apps(settings):
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "channels"]
    assert ids(parley_host_checks()) == ["parley.E001"]


def test_no_channel_layer(settings):
    del settings.CHANNEL_LAYERS
    assert ids(parley_host_checks()) == ["parley.E002"]


def test_no_asgi_application(settings):
    del settings.ASGI_APPLICATION
    assert ids(parley_host_checks()) == ["parley.E003"]


def test_a_bad_parley_value(settings):
    settings.PARLEY = {**settings.PARLEY, "SEND_RATE": "10 a second"}
    problems = parley_host_checks()
    assert ids(problems) == ["parley.E004"]
    assert 'PARLEY["SEND_RATE"]' in problems[0].msg
