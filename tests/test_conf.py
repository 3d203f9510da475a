"""``parley.conf``: defaults for every key, parsed values, errors that name the key, and reloads."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from parley.conf import KEYS, parley_settings


def test_every_key_has_a_default_that_parses(settings):
    del settings.PARLEY
    assert parley_settings.errors() == []
    assert parley_settings.GUESTS is False
    assert parley_settings.SEND_RATE == (10.0, 20)
    assert parley_settings.MAX_BODY == 4000
    assert parley_settings.TASKS == "inline"  # the in-memory layer
    assert {name: parley_settings.value(name) for name in KEYS}


def test_a_rate_is_written_as_in_the_readme_and_read_as_a_pair(settings):
    settings.PARLEY = {"SEND_RATE": "10/20", "API_RATE": "0", "HISTORY_RATE": None, "SUBSCRIBE_RATE": (0.5, 3)}
    assert parley_settings.SEND_RATE == (10.0, 20)
    assert parley_settings.API_RATE is None
    assert parley_settings.HISTORY_RATE is None
    assert parley_settings.SUBSCRIBE_RATE == (0.5, 3)


def test_a_change_of_the_setting_is_seen_at_once(settings):
    settings.PARLEY = {"GUESTS": True}
    assert parley_settings.GUESTS is True
    settings.PARLEY = {"GUESTS": False}
    assert parley_settings.GUESTS is False


def test_the_tasks_mode_follows_a_redis_layer_unless_set(settings):
    settings.PARLEY = {}
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer"}}
    assert parley_settings.TASKS == "worker"
    settings.PARLEY = {"TASKS": "inline"}
    assert parley_settings.TASKS == "inline"


@pytest.mark.parametrize(
    ("key", "value", "form"),
    [
        ("SEND_RATE", "ten", 'write "rate/burst"'),
        ("MAX_BODY", "4000", "a whole number, 1 or more"),
        ("GAP_WAIT", -1, "a number of seconds"),
        ("GUESTS", "yes", "True or False"),
        ("TASKS", "celery", "one of"),
        ("SEARCH_CONFIG", "simple; drop table", "text search configuration"),
        ("SITE_URL", "chat.example.com", "the site's address"),
        ("ROOM_CREATION", "staff", "one of 'everyone', 'permitted'"),
        ("STAFF_PERMISSIONS", 0, "True or False"),
    ],
)
def test_a_wrong_value_raises_a_sentence_naming_the_key_and_the_form(settings, key, value, form):
    settings.PARLEY = {key: value}
    with pytest.raises(ImproperlyConfigured, match=rf'^PARLEY\["{key}"\] is .*{form}'):
        getattr(parley_settings, key)
    assert len(parley_settings.errors()) == 1


def test_an_unknown_key_is_an_error_naming_the_key_meant(settings):
    settings.PARLEY = {"GUEST": True, "max_body": 100}
    assert parley_settings.errors() == [
        'PARLEY["GUEST"] is not a setting of Parley; did you mean "GUESTS"?',
        'PARLEY["max_body"] is not a setting of Parley; did you mean "MAX_BODY"?',
    ]


def test_an_unknown_key_like_no_other_lists_the_keys(settings):
    settings.PARLEY = {"ZZZ": 1}
    (problem,) = parley_settings.errors()
    assert problem.startswith('PARLEY["ZZZ"] is not a setting of Parley: the keys are ')
    assert "GUESTS" in problem
