"""Failed log-ins are limited per username from one address, per username and per client address,
on Parley's log-in page and on the admin's: past a limit every attempt is refused, the right
password too, with the wait; attempts sent at once cannot pass it."""

from __future__ import annotations

import logging
import re
import threading
import time

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection
from django.test import Client

from parley.accounts import login_throttle
from parley.accounts.login_throttle import Attempt, LoginCounts, Window
from parley.conf import BadValue, parse_failures
from tests.e2e.conftest import claim_redis_db  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

PASSWORD = "right-horse-battery-staple-7"
THROTTLED = re.compile(r"Too many failed log-ins for this account or address\. Try again in (\d+) seconds?\.")


def log_in(client: Client, username: str, password: str, *, path: str = "/accounts/login/", **extra: str):
    return client.post(path, {"username": username, "password": password}, **extra)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_fifty_wrong_passwords_then_the_right_one_is_refused_with_the_wait(make_user):
    make_user("alice", password=PASSWORD)
    client = Client()
    for attempt in range(50):
        response = log_in(client, "alice", f"guess-{attempt}")
        assert response.status_code == 200
    response = log_in(client, "alice", PASSWORD)
    assert not signed_in(client)
    found = THROTTLED.search(response.content.decode())
    assert found, response.content.decode()[:2000]
    assert 0 < int(found.group(1)) <= 300
    assert b"Please enter a correct username" not in response.content


def test_the_limit_is_per_username_from_one_address_whatever_the_case(make_user, settings):
    settings.PARLEY = {**settings.PARLEY, "LOGIN_FAILURES": (3, 300)}
    make_user("alice", password=PASSWORD)
    make_user("bob", password=PASSWORD)
    for attempt in range(3):
        log_in(Client(), "ALICE" if attempt % 2 else "alice", "wrong", REMOTE_ADDR="203.0.113.1")
    alice = Client()
    assert THROTTLED.search(log_in(alice, "alice", PASSWORD, REMOTE_ADDR="203.0.113.1").content.decode())
    assert not signed_in(alice)
    bob = Client()
    log_in(bob, "bob", PASSWORD, REMOTE_ADDR="203.0.113.1")
    assert signed_in(bob)


def test_failures_from_elsewhere_lock_the_owner_out_only_past_the_username_limit(make_user, settings):
    """One guess a minute from anywhere must not keep an account locked: the tight limit is per
    (username, address); the username alone has a much higher one."""
    settings.PARLEY = {**settings.PARLEY, "LOGIN_FAILURES": (3, 300)}
    settings.PARLEY = {**settings.PARLEY, "LOGIN_USERNAME_FAILURES": (5, 300)}
    make_user("alice", password=PASSWORD)
    for _ in range(4):
        log_in(Client(), "alice", "wrong", REMOTE_ADDR="203.0.113.66")
    assert THROTTLED.search(log_in(Client(), "alice", PASSWORD, REMOTE_ADDR="203.0.113.66").content.decode())
    owner = Client()
    log_in(owner, "alice", PASSWORD, REMOTE_ADDR="198.51.100.1")
    assert signed_in(owner)  # 3 failures counted for alice, below 5; the success is not counted
    for attempt in range(2):
        log_in(Client(), "ALICE", "wrong", REMOTE_ADDR=f"192.0.2.{attempt}")
    late = Client()
    assert THROTTLED.search(log_in(late, "alice", PASSWORD, REMOTE_ADDR="198.51.100.1").content.decode())
    assert not signed_in(late)


def test_successful_log_ins_are_not_counted(make_user, settings):
    settings.PARLEY = {**settings.PARLEY, "LOGIN_FAILURES": (2, 300)}
    settings.PARLEY = {**settings.PARLEY, "LOGIN_ADDRESS_FAILURES": (2, 300)}
    make_user("judy", password=PASSWORD)
    log_in(Client(), "judy", "wrong")
    for _ in range(4):
        client = Client()
        log_in(client, "judy", PASSWORD)
        assert signed_in(client)


def test_the_limit_is_per_address_across_usernames(make_user, settings):
    settings.PARLEY = {**settings.PARLEY, "LOGIN_ADDRESS_FAILURES": (4, 300)}
    make_user("carol", password=PASSWORD)
    for attempt in range(4):
        log_in(Client(), f"nobody-{attempt}", "wrong", REMOTE_ADDR="203.0.113.7")
    refused = Client()
    assert THROTTLED.search(log_in(refused, "carol", PASSWORD, REMOTE_ADDR="203.0.113.7").content.decode())
    other = Client()
    log_in(other, "carol", PASSWORD, REMOTE_ADDR="203.0.113.8")
    assert signed_in(other)


def test_the_address_is_read_behind_trusted_proxies_only(settings):
    settings.PARLEY = {**settings.PARLEY, "LOGIN_ADDRESS_FAILURES": (2, 300)}
    settings.PARLEY = {**settings.PARLEY, "LOGIN_FAILURES": None}
    # No proxy trusted: X-Forwarded-For is whatever the client wrote, so the peer is what counts.
    for forged in ("1.1.1.1", "2.2.2.2"):
        log_in(Client(), "x", "wrong", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forged)
    assert THROTTLED.search(log_in(Client(), "y", "wrong", REMOTE_ADDR="10.0.0.5").content.decode())
    # One proxy trusted: the address it appended is the client's, whatever came before it.
    settings.PARLEY = {**settings.PARLEY, "TRUSTED_PROXIES": 1}
    for forged in ("1.1.1.1", "2.2.2.2"):
        log_in(Client(), "x", "wrong", REMOTE_ADDR="10.0.0.6", HTTP_X_FORWARDED_FOR=f"{forged}, 203.0.113.50")
    behind_proxy = {"REMOTE_ADDR": "10.0.0.6", "HTTP_X_FORWARDED_FOR": "203.0.113.50"}
    assert THROTTLED.search(log_in(Client(), "z", "wrong", **behind_proxy).content.decode())
    other_client = {"REMOTE_ADDR": "10.0.0.6", "HTTP_X_FORWARDED_FOR": "203.0.113.51"}
    assert not THROTTLED.search(log_in(Client(), "z", "wrong", **other_client).content.decode())


def test_the_admin_log_in_is_throttled_too_and_says_so(make_user, settings):
    settings.PARLEY = {**settings.PARLEY, "LOGIN_FAILURES": (3, 300)}
    make_user("root", password=PASSWORD, staff=True)
    client = Client()
    for _ in range(3):
        response = log_in(client, "root", "wrong", path="/admin/login/")
        assert b"Please enter the correct username and password" in response.content
    response = log_in(client, "root", PASSWORD, path="/admin/login/")
    assert response.status_code == 200
    assert THROTTLED.search(response.content.decode()), response.content.decode()[:3000]
    assert not signed_in(client)


def test_a_refused_attempt_is_not_counted_and_the_lock_ends_with_the_window(make_user, settings):
    settings.PARLEY = {**settings.PARLEY, "LOGIN_FAILURES": (2, 3)}
    make_user("dave", password=PASSWORD)
    log_in(Client(), "dave", "wrong")
    first_counted = time.monotonic()  # at the latest
    log_in(Client(), "dave", "wrong")
    for _ in range(3):  # refused while locked: these do not push the window forward
        assert THROTTLED.search(log_in(Client(), "dave", "wrong").content.decode())
    time.sleep(max(0.0, first_counted + 3.1 - time.monotonic()))
    client = Client()
    response = log_in(client, "dave", PASSWORD)
    assert signed_in(client), response.content.decode()[-1500:]


def test_authenticate_without_a_request_is_throttled_by_username(make_user, settings):
    """Any code that checks a password through Django (here as ``Client.login`` does) meets the limit."""
    settings.PARLEY = {**settings.PARLEY, "LOGIN_FAILURES": (2, 300)}
    erin = make_user("erin", password=PASSWORD)
    assert authenticate(username="erin", password="wrong") is None
    assert authenticate(username="erin", password="wrong") is None
    assert authenticate(username="erin", password=PASSWORD) is None
    assert authenticate(username="other", password="x") is None  # others are not affected...
    assert authenticate(username="erin", password=PASSWORD) is None  # ...and erin still waits
    settings.PARLEY = {**settings.PARLEY, "LOGIN_FAILURES": None}
    assert authenticate(username="erin", password=PASSWORD) == erin


def test_counts_in_redis_are_shared_by_every_process(claim_redis_db, settings):  # noqa: F811
    """Two ``LoginCounts`` on one Redis stand for two server processes."""
    url = f"redis://127.0.0.1:6379/{claim_redis_db()}"
    first, second = LoginCounts(url), LoginCounts(url)
    frank = (Window("username", "frank", 3, 300),)
    for _ in range(3):
        first.count(frank)
    assert 0 < second.wait(frank) <= 300
    assert second.wait((Window("username", "grace", 3, 300),)) == 0.0


def test_a_slot_is_taken_in_every_window_or_in_none_and_given_back(claim_redis_db):  # noqa: F811
    for counts in (LoginCounts(""), LoginCounts(f"redis://127.0.0.1:6379/{claim_redis_db()}")):
        full, roomy = Window("address", "203.0.113.1", 1, 300), Window("username", "ivy", 2, 300)
        counts.count((full,))
        assert counts.take((roomy, full), "t1") > 0
        assert counts.wait((roomy,)) == 0.0  # the refused attempt took nothing in the roomy window
        assert counts.take((roomy,), "t2") == 0.0  # in flight: holds a slot
        assert counts.take((roomy,), "t3") == 0.0
        assert 0 < counts.take((roomy,), "t4") <= 30  # the in-flight attempts' lease
        counts.give_back(Attempt("t2", (roomy,)))  # a success
        counts.settle(Attempt("t3", (roomy,)))  # a failure
        assert counts.take((roomy,), "t5") == 0.0
        assert 0 < counts.take((roomy,), "t6") <= 30  # t5, in flight, lapses first
        counts.settle(Attempt("t5", (roomy,)))
        assert 30 < counts.take((roomy,), "t7") <= 300  # two failures: the first leaves the window first


def test_while_redis_does_not_answer_this_process_counts(caplog):
    counts = LoginCounts("redis://127.0.0.1:1/0")  # nothing listens there
    heidi = (Window("username", "heidi", 2, 300),)
    counts.count(heidi)
    counts.count(heidi)
    assert counts.wait(heidi) > 0
    assert [record.levelname for record in caplog.records if "log-in limits" in record.getMessage()] == ["ERROR"]


class CountingHasher(MD5PasswordHasher):
    """Counts the passwords it checks, each slowly enough for parallel attempts to overlap."""

    algorithm = "parley_counting"
    checked = 0
    lock = threading.Lock()

    def verify(self, password: str, encoded: str) -> bool:
        with CountingHasher.lock:
            CountingHasher.checked += 1
        time.sleep(0.2)
        return super().verify(password, encoded)


@pytest.mark.parametrize("shared", [False, True], ids=["in-process", "redis"])
@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_are_not_checked_past_the_limit(make_user, settings, claim_redis_db, shared):  # noqa: F811
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    settings.PARLEY = {**settings.PARLEY, "LOGIN_FAILURES": (3, 300)}
    settings.PARLEY = {**settings.PARLEY, "REDIS_URL": f"redis://127.0.0.1:6379/{claim_redis_db()}" if shared else ""}
    make_user("ivan", password=PASSWORD)
    CountingHasher.checked = 0
    start = threading.Barrier(12)

    def guess(attempt: int) -> None:
        try:
            start.wait()
            authenticate(username="ivan", password=f"guess-{attempt}")
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(attempt,)) for attempt in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert CountingHasher.checked == 3
    assert authenticate(username="ivan", password=PASSWORD) is None
    assert CountingHasher.checked == 3


def test_a_failure_through_an_unread_proxy_warns_once(make_user, settings, caplog, monkeypatch):
    monkeypatch.setattr(login_throttle, "_proxy_warned", False)
    through_nginx = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    settings.PARLEY = {**settings.PARLEY, "TRUSTED_PROXIES": 1}
    log_in(Client(), "kim", "wrong", **through_nginx)
    settings.PARLEY = {**settings.PARLEY, "TRUSTED_PROXIES": 0}
    log_in(Client(), "kim", "wrong", REMOTE_ADDR="127.0.0.1")  # no proxy header: a local client
    with caplog.at_level(logging.WARNING, logger="parley.accounts.login_throttle"):
        assert not caplog.records
        log_in(Client(), "kim", "wrong", **through_nginx)
        log_in(Client(), "lee", "wrong", **through_nginx)
    warnings = [record.getMessage() for record in caplog.records if record.name == "parley.accounts.login_throttle"]
    assert len(warnings) == 1
    assert "PARLEY_TRUSTED_PROXIES=1" in warnings[0]


def test_settings_parse_failures_per_seconds():
    assert parse_failures("7/60") == (7, 60)
    assert parse_failures((7, 60)) == (7, 60)
    assert parse_failures("0") is None
    assert parse_failures(None) is None
    for bad in ("5", "a/b", "0/10", "3/0", 5.5):
        with pytest.raises(BadValue):
            parse_failures(bad)


def test_the_limits_default_without_settings(settings):
    settings.PARLEY = {}
    assert login_throttle.configured_limits() == {"pair": (5, 300), "username": (100, 3600), "address": (20, 300)}


def test_force_login_and_sessions_keep_working_behind_the_throttle(client, make_user):
    """``force_login`` records the first backend with ``get_user``: it must not be the throttle."""
    alice = make_user("alice")
    client.force_login(alice)
    assert client.get("/accounts/login/").context["user"] == alice
