"""Parley's one settings module.

Every knob comes from the environment (DESIGN.md's configuration table); this is the only
module that reads it. Production secrets have no defaults: with debug off, a missing
``DJANGO_SECRET_KEY`` stops the process at start with one line that says what to set.
"""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path
from urllib.parse import urlsplit

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured

# Lets admin and form classes be written with type arguments (ModelAdmin[Room]) at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)

_DEV_SECRET_KEY = "parley-dev-only-insecure-key-never-use-in-production"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        # SystemExit, not ImproperlyConfigured: every entry point (manage.py, Daphne, Uvicorn,
        # Gunicorn) then stops with this one line on stderr instead of a traceback.
        raise SystemExit(
            "DJANGO_SECRET_KEY is not set: set it to a random string of 50 or more characters, "
            "or set DJANGO_DEBUG=1 for local development."
        )
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
# Other origins whose pages may post forms and open sockets here (https://app.example.com,
# https://*.example.com): the site's own scheme, host and port need no entry.
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

HTTPS = env.bool("DJANGO_HTTPS", default=False)
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS += [f"https://{host.lstrip('.')}" for host in ALLOWED_HOSTS if host != "*"]

SESSION_COOKIE_HTTPONLY = True
# No script reads the CSRF cookie: forms carry the token, so scripts need not see it either.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts only from our own origin, never inline, so text
# that slipped into the page as HTML still could not run. The pages keep no inline scripts, event
# handlers or styles; their data travels in json_script blocks, which are not executed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        # 'self' covers ws:// and wss:// to the page's own host (CSP Level 3).
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

INSTALLED_APPS = [
    # daphne first: its runserver replaces Django's, serving HTTP and WebSockets.
    "daphne",
    # Before "channels": its runworker command extends Channels' own (it starts the task sweep at once).
    "parley.tasks",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    # django-ninja's own copy of Swagger UI for /api/docs (else it loads it from a CDN, which the CSP forbids).
    "ninja",
    "parley.accounts",
    "parley.rooms",
    "parley.notifications",
    "parley.realtime",
    "parley.web",
    "parley.ops",
    "parley.webhooks",
    "parley.mentions",
    "parley.search",
    "parley.readstate",
    "parley.moderation",
    # The article's shop: a demo integration that raises live notifications from its own model.
    "orders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # The API's 404 and 405 answers in its JSON; a page's form over DATA_UPLOAD_MAX_MEMORY_SIZE
    # answers 413 (it must come before CsrfViewMiddleware, which would read the form first).
    "parley.api.middleware.ApiErrorsMiddleware",
    "parley.web.middleware.RequestTooLargeMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "parley.web.context_processors.notification_bell",
            ],
        },
    },
]


def _database_from_url(url: str) -> dict[str, object]:
    """Parse DATABASE_URL; a relative SQLite path is taken from the project directory."""
    config: dict[str, object] = environ.Env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        name = str(config["NAME"])
        if name != ":memory:" and not name.startswith("file:"):
            path = Path(name) if Path(name).is_absolute() else BASE_DIR / name
            path.parent.mkdir(parents=True, exist_ok=True)
            config["NAME"] = str(path)
        # IMMEDIATE transactions take the write lock up front, so two writers queue
        # instead of failing with "database is locked"; WAL lets readers run meanwhile.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    # Keep connections open between requests and frames: opening one per database call was a
    # sixth of the database thread's time in the fan-out profile.
    config.setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    config.setdefault("CONN_HEALTH_CHECKS", True)
    return config


DATABASES = {"default": _database_from_url(env.str("DATABASE_URL", default="sqlite:///var/parley.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _redis_host(url: str) -> dict[str, object]:
    """A channels_redis host whose socket timeout outlasts the layer's 5-second blocking reads:
    redis-py's default of 5 s made every idle read fail and log an outage (tests/faults)."""
    return {"address": url, "socket_timeout": 15, "socket_connect_timeout": 5}


def _channel_layer_from_url(url: str, prefix: str) -> dict[str, object]:
    """Map CHANNEL_LAYER_URL to a CHANNEL_LAYERS entry (DESIGN.md lists the schemes).

    Every process has one hub channel that receives all of its rooms' events, so channel capacity
    is raised well above the layers' default of 100, past which they drop messages silently.
    """
    parts = urlsplit(url)
    if parts.scheme == "memory":
        return {"BACKEND": "parley.realtime.layers.ThrottledInMemoryChannelLayer", "CONFIG": {"capacity": 10_000}}
    if parts.scheme in ("redis", "rediss"):
        config = {"hosts": [_redis_host(url)], "prefix": prefix, "capacity": 10_000}
        return {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": config}
    if parts.scheme in ("redis+pubsub", "rediss+pubsub"):
        # Redis pub/sub channels ignore the database index, so deployments sharing a Redis would
        # hear each other's rooms (found by tests/e2e/test_cross_process.py): the index goes into
        # the prefix by default.
        database = parts.path.strip("/") or "0"
        config = {"hosts": [_redis_host(url.replace("+pubsub", "", 1))], "prefix": f"{prefix}.db{database}"}
        return {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": config}
    if parts.scheme in ("amqp", "amqps"):
        config = {"host": url, "groups_exchange": f"{prefix}.groups"}
        return {"BACKEND": "channels_rabbitmq.core.RabbitmqChannelLayer", "CONFIG": config}
    raise ImproperlyConfigured(
        f"CHANNEL_LAYER_URL has an unknown scheme {parts.scheme!r}: use memory://, redis://, redis+pubsub:// or amqp://."
    )


CHANNEL_LAYER_URL = env.str("CHANNEL_LAYER_URL", default="memory://")
# Names in the layer start with this, so several deployments can share one Redis or RabbitMQ.
CHANNEL_LAYER_PREFIX = env.str("CHANNEL_LAYER_PREFIX", default="parley")
CHANNEL_LAYERS = {"default": _channel_layer_from_url(CHANNEL_LAYER_URL, CHANNEL_LAYER_PREFIX)}

REDIS_URL = env.str("REDIS_URL", default="")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The log-in throttle first: it refuses a throttled username or address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "parley.accounts.login_throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "index"
LOGOUT_REDIRECT_URL = "index"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where `collectstatic` puts the files (and where a reverse proxy may serve them from).
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "var" / "static")))
# With a manifest from `collectstatic` (production), WhiteNoise serves hashed, compressed files
# from STATIC_ROOT; without one (make run, tests) it serves the apps' static folders directly.
# `collectstatic` itself must use the manifest storage, or it never writes the manifest: the first
# run on a fresh host would copy plain files and the site would never switch (tests/deploy).
_STATIC_MANIFEST = STATIC_ROOT / "staticfiles.json"
_HASHED_STATIC = _STATIC_MANIFEST.exists() or sys.argv[1:2] == ["collectstatic"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _HASHED_STATIC
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not _HASHED_STATIC
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# "text" reads well in a terminal (make run); "json" is one object per line with timestamp, level,
# logger, message and the context a call passes in ``extra`` (room, user, close code), for log
# collectors in production.
PARLEY_LOG_FORMAT = env.str("PARLEY_LOG_FORMAT", default="text")
if PARLEY_LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"PARLEY_LOG_FORMAT is {PARLEY_LOG_FORMAT!r}: set it to text or json.")
_LOG_LINE = "%(asctime)s %(levelname)s %(name)s %(message)s"
PARLEY_LOG_LEVEL = env.str("PARLEY_LOG_LEVEL", default="INFO")
# The servers' own loggers take PARLEY_LOG_LEVEL too: at INFO, Uvicorn writes three lines per
# WebSocket (open, accepted, closed), which cost a fourteenth of a handshake (py-spy).
_SERVER_LOG = {"handlers": ["stderr"], "propagate": False, "level": PARLEY_LOG_LEVEL}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": _LOG_LINE},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": True,  # ISO 8601, UTC
        },
    },
    # Servers log request lines with their query strings: credentials in them are masked.
    "filters": {"redact_secrets": {"()": "parley.ops.redaction.RedactSecrets"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": sys.stderr,
            "formatter": PARLEY_LOG_FORMAT,
            "filters": ["redact_secrets"],
        }
    },
    "root": {"handlers": ["stderr"], "level": PARLEY_LOG_LEVEL},
    "loggers": {
        # Daphne logs every HTTP request at INFO; keep the server's own lines, not the noise.
        "daphne": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
        # The servers set up their own handlers before Django starts: these lines take Parley's format.
        "uvicorn": _SERVER_LOG,
        "uvicorn.error": _SERVER_LOG,
        "uvicorn.access": _SERVER_LOG,
        "gunicorn.error": _SERVER_LOG,
        "gunicorn.access": _SERVER_LOG,
    },
}

# --- Parley ---------------------------------------------------------------------------------
# Anonymous visitors may use rooms marked guests_allowed: on in debug, off otherwise.
PARLEY_GUESTS = env.bool("PARLEY_GUESTS", default=DEBUG)
# Largest WebSocket text frame accepted, in bytes; a larger one closes the socket with 1009.
PARLEY_MAX_FRAME = env.int("PARLEY_MAX_FRAME", default=64 * 1024)
# Longest message body, in characters.
PARLEY_MAX_BODY = env.int("PARLEY_MAX_BODY", default=4000)
# PostgreSQL's text search configuration for message search. 'simple' lower-cases words and
# nothing more: no stemming and no stop words, so a word is found as typed in any language, like
# SQLite's FTS5. The GIN index is built for it: after changing it, run migrate.
PARLEY_SEARCH_CONFIG = env.str("PARLEY_SEARCH_CONFIG", default="simple")
# Most messages a subscribe with `since` replays before it answers truncated=true.
PARLEY_REPLAY_LIMIT = env.int("PARLEY_REPLAY_LIMIT", default=1000)
# Bytes a socket may have queued for sending before it is closed as too slow (4408).
PARLEY_SOCKET_BUFFER = env.int("PARLEY_SOCKET_BUFFER", default=1024 * 1024)
# Threads (each with its own connection) that serve sockets' queries on PostgreSQL; SQLite, which
# takes one writer at a time, always uses one.
PARLEY_DB_THREADS = env.int("PARLEY_DB_THREADS", default=4)
# With REDIS_URL, how long a server process's claim that someone is in a room lasts without being
# renewed: the people of a process that crashed leave the rooms' presence within about this long.
PARLEY_PRESENCE_TTL = env.float("PARLEY_PRESENCE_TTL", default=45.0)
# How long the hub waits for a missing seq before reading it from the database, in seconds.
PARLEY_GAP_WAIT = env.float("PARLEY_GAP_WAIT", default=0.25)
# How often each process checks its rooms' stored heads, to repair a lost last message, in seconds.
PARLEY_SWEEP_INTERVAL = env.float("PARLEY_SWEEP_INTERVAL", default=1.0)


def _rate(name: str, default: str) -> tuple[float, int] | None:
    """A rate limit "R/B": R a second on average, B at once (parley/realtime/ratelimit.py); "0" is off."""
    text = env.str(name, default=default).strip()
    if text == "0":
        return None
    rate, _, burst = text.partition("/")
    try:
        per_second, at_once = float(rate), int(burst)
    except ValueError:
        per_second, at_once = 0.0, 0
    if not (0 < per_second < float("inf")) or at_once < 1:
        raise ImproperlyConfigured(
            f'{name} is {text!r}: write "rate/burst" (e.g. "10/20": 10 a second, 20 at once), or "0" for no limit.'
        )
    return per_second, at_once


# Rate limits, per identity and per socket (sends, subscribes, history, other frames), per API caller and per
# client address (handshakes). Shared by all processes through Redis when REDIS_URL is set.
PARLEY_SEND_RATE = _rate("PARLEY_SEND_RATE", "10/20")
PARLEY_SUBSCRIBE_RATE = _rate("PARLEY_SUBSCRIBE_RATE", "5/30")
PARLEY_HISTORY_RATE = _rate("PARLEY_HISTORY_RATE", "10/30")
# Frames that cost next to nothing (ping, unsubscribe, typing) share one generous limit.
PARLEY_FRAME_RATE = _rate("PARLEY_FRAME_RATE", "10/60")
PARLEY_API_RATE = _rate("PARLEY_API_RATE", "10/30")
PARLEY_HANDSHAKE_RATE = _rate("PARLEY_HANDSHAKE_RATE", "10/100")
# A socket refused this many times within PARLEY_ABUSE_WINDOW seconds is closed with 4429 (0: never).
PARLEY_ABUSE_REFUSALS = env.int("PARLEY_ABUSE_REFUSALS", default=50)
PARLEY_ABUSE_WINDOW = env.float("PARLEY_ABUSE_WINDOW", default=10.0)
# How many reverse proxies in front of the server append to X-Forwarded-For. 0: the header is
# ignored and the client address is the socket's peer (Uvicorn already puts the forwarded address
# there for proxies it trusts, --forwarded-allow-ips).
PARLEY_TRUSTED_PROXIES = env.int("PARLEY_TRUSTED_PROXIES", default=0)
# Seconds a request's header may take to arrive, from the connection's opening or the request's
# first byte, under Uvicorn and Gunicorn with Parley's protocol (parley/ops/servers.py): a slower
# one (slow-loris) is answered 408 and closed. 0: no limit.
PARLEY_HEADER_TIMEOUT = env.float("PARLEY_HEADER_TIMEOUT", default=10.0)


def _networks(name: str, default: list[str]) -> list[str]:
    """A comma-separated list of addresses and networks (CIDRs), each checked at start."""
    networks: list[str] = env.list(name, default=default)
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as error:
            raise ImproperlyConfigured(
                f"{name} holds {network!r}, which is not an address or network ({error}); "
                "write each like 10.0.0.0/8 or 192.0.2.7."
            ) from None
    return networks


# Who may read /metrics: clients at these addresses (CIDRs, comma-separated; read behind
# PARLEY_TRUSTED_PROXIES like every client address), and any client that sends
# "Authorization: Bearer <PARLEY_METRICS_TOKEN>" when a token is set.
PARLEY_METRICS_ALLOWED_IPS = _networks("PARLEY_METRICS_ALLOWED_IPS", ["127.0.0.0/8", "::1/128"])
PARLEY_METRICS_TOKEN = env.str("PARLEY_METRICS_TOKEN", default="")
# Most rooms one socket may follow at once; a subscribe past it is refused with too_large.
PARLEY_MAX_SUBSCRIPTIONS = env.int("PARLEY_MAX_SUBSCRIPTIONS", default=100)


def _failures(name: str, default: str) -> tuple[int, int] | None:
    """A log-in failure limit "N/S": at most N failed log-ins within any S seconds; "0" is off."""
    text = env.str(name, default=default).strip()
    if text == "0":
        return None
    count, _, seconds = text.partition("/")
    try:
        limit = int(count), int(seconds)
    except ValueError:
        limit = 0, 0
    if limit[0] < 1 or limit[1] < 1:
        raise ImproperlyConfigured(
            f'{name} is {text!r}: write "failures/seconds" (e.g. "5/300": 5 failed log-ins in 5 minutes), '
            'or "0" for no limit.'
        )
    return limit


# Failed log-ins (every password check: the log-in page, the admin's) per username from one client
# address (PARLEY_LOGIN_FAILURES), per username from any address (PARLEY_LOGIN_USERNAME_FAILURES:
# guessing from many addresses) and per client address (PARLEY_LOGIN_ADDRESS_FAILURES); addresses
# are read as for handshakes (PARLEY_TRUSTED_PROXIES). Past any of them, every attempt is refused,
# the right password too, until the oldest failure leaves the window; successful log-ins are not
# counted (parley/accounts/login_throttle.py).
PARLEY_LOGIN_FAILURES = _failures("PARLEY_LOGIN_FAILURES", "5/300")
PARLEY_LOGIN_USERNAME_FAILURES = _failures("PARLEY_LOGIN_USERNAME_FAILURES", "100/3600")
PARLEY_LOGIN_ADDRESS_FAILURES = _failures("PARLEY_LOGIN_ADDRESS_FAILURES", "20/300")

# --- Background work (parley/tasks), webhooks, mention e-mails --------------------------------


def _tasks_mode(layer_url: str) -> str:
    """Where background work runs unless PARLEY_TASKS says: in the server process with memory://
    (one process) and amqp:// (channels_rabbitmq has no normal channels for a worker to read), in
    `manage.py runworker parley.tasks` with a Redis layer."""
    scheme = urlsplit(layer_url).scheme
    return "inline" if scheme in ("memory", "amqp", "amqps") else "worker"


PARLEY_TASKS = env.str("PARLEY_TASKS", default=_tasks_mode(CHANNEL_LAYER_URL))
if PARLEY_TASKS not in ("inline", "worker"):
    raise ImproperlyConfigured(
        f"PARLEY_TASKS is {PARLEY_TASKS!r}: set it to inline (in the server process) or worker "
        "(`manage.py runworker parley.tasks`)."
    )
# How often the task runner looks in the database for due work (webhook retries, mention e-mails
# whose timer a restart lost), in seconds.
PARLEY_TASKS_SWEEP_INTERVAL = env.float("PARLEY_TASKS_SWEEP_INTERVAL", default=5.0)
# Most tasks one runner works on at once (webhook POSTs, e-mails).
PARLEY_TASKS_CONCURRENCY = env.int("PARLEY_TASKS_CONCURRENCY", default=20)
# Webhooks: seconds per POST, attempts before a delivery is failed, and the back-off between
# attempts (first delay, doubling up to the cap), in seconds.
PARLEY_WEBHOOK_TIMEOUT = env.float("PARLEY_WEBHOOK_TIMEOUT", default=10.0)
PARLEY_WEBHOOK_MAX_ATTEMPTS = env.int("PARLEY_WEBHOOK_MAX_ATTEMPTS", default=8)
PARLEY_WEBHOOK_RETRY_DELAY = env.float("PARLEY_WEBHOOK_RETRY_DELAY", default=1.0)
PARLEY_WEBHOOK_RETRY_MAX_DELAY = env.float("PARLEY_WEBHOOK_RETRY_MAX_DELAY", default=600.0)
# Networks webhooks may reach although they are not public (CIDRs, comma-separated, e.g.
# 10.20.0.0/16,fd00:1::/64): by default a receiver must resolve to public addresses only.
PARLEY_WEBHOOK_ALLOWED_NETWORKS = env.list("PARLEY_WEBHOOK_ALLOWED_NETWORKS", default=[])
for _network in PARLEY_WEBHOOK_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network)
    except ValueError as _error:
        raise ImproperlyConfigured(
            f"PARLEY_WEBHOOK_ALLOWED_NETWORKS holds {_network!r}, which is not a network ({_error}); "
            "write each as an address with its prefix length, such as 10.20.0.0/16."
        ) from None
# Most webhooks one room may have (paused and stopped ones count).
PARLEY_WEBHOOKS_PER_ROOM = env.int("PARLEY_WEBHOOKS_PER_ROOM", default=10)
# Origins besides this site that a notification's data.url may link to (comma-separated, e.g.
# https://shop.example.com); by default the bell links only to paths on this site.
PARLEY_NOTIFICATION_URL_ORIGINS = env.list("PARLEY_NOTIFICATION_URL_ORIGINS", default=[])
for _origin in PARLEY_NOTIFICATION_URL_ORIGINS:
    _parts = urlsplit(_origin)
    if _parts.scheme not in ("http", "https") or not _parts.netloc or _parts.path.strip("/") or "@" in _parts.netloc:
        raise ImproperlyConfigured(
            f"PARLEY_NOTIFICATION_URL_ORIGINS holds {_origin!r}: write each as scheme://host[:port], "
            "such as https://shop.example.com."
        )
# Seconds after an @mention before a user who is not connected gets one e-mail for what they missed.
PARLEY_MENTION_EMAIL_DELAY = env.float("PARLEY_MENTION_EMAIL_DELAY", default=300.0)
# Where links in e-mails point, e.g. https://chat.example.com (no links when empty).
PARLEY_SITE_URL = env.str("PARLEY_SITE_URL", default="").rstrip("/")

# E-mail (Django's e-mail framework): EMAIL_URL such as smtp://user:pass@mail:587 (smtp+tls://,
# smtp+ssl://), or consolemail:// to print them; printed to the console by default in debug.
_EMAIL = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
EMAIL_BACKEND = _EMAIL["EMAIL_BACKEND"]
EMAIL_HOST = _EMAIL.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _EMAIL.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _EMAIL.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _EMAIL.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_EMAIL.get("EMAIL_USE_TLS", False))
EMAIL_USE_SSL = bool(_EMAIL.get("EMAIL_USE_SSL", False))
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Parley <parley@localhost>")
