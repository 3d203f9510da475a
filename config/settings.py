"""Parley's one settings module.

Every knob comes from the environment (DESIGN.md's configuration table); this is the only
module that reads it. Production secrets have no defaults: with debug off, a missing
``DJANGO_SECRET_KEY`` stops the process at start with one line that says what to set.
"""

from __future__ import annotations

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
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set: set it to a long random string, or set DJANGO_DEBUG=1 for local development."
        )
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

HTTPS = env.bool("DJANGO_HTTPS", default=False)
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = [f"https://{host.lstrip('.')}" for host in ALLOWED_HOSTS if host != "*"]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    # daphne first: its runserver replaces Django's, serving HTTP and WebSockets.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "parley.accounts",
    "parley.rooms",
    "parley.realtime",
    "parley.web",
    "parley.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
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
        return {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 10_000}}
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
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "index"
LOGOUT_REDIRECT_URL = "index"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# With a manifest from `collectstatic` (production), WhiteNoise serves hashed, compressed files
# from STATIC_ROOT; without one (make run, tests) it serves the apps' static folders directly.
_STATIC_MANIFEST = STATIC_ROOT / "staticfiles.json"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _STATIC_MANIFEST.exists()
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not _STATIC_MANIFEST.exists()
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": sys.stderr, "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": env.str("PARLEY_LOG_LEVEL", default="INFO")},
    "loggers": {
        # Daphne logs every HTTP request at INFO; keep the server's own lines, not the noise.
        "daphne": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
    },
}

# --- Parley ---------------------------------------------------------------------------------
# Anonymous visitors may use rooms marked guests_allowed: on in debug, off otherwise.
PARLEY_GUESTS = env.bool("PARLEY_GUESTS", default=DEBUG)
# Largest WebSocket text frame accepted, in bytes; a larger one closes the socket with 1009.
PARLEY_MAX_FRAME = env.int("PARLEY_MAX_FRAME", default=64 * 1024)
# Longest message body, in characters.
PARLEY_MAX_BODY = env.int("PARLEY_MAX_BODY", default=4000)
# Most messages a subscribe with `since` replays before it answers truncated=true.
PARLEY_REPLAY_LIMIT = env.int("PARLEY_REPLAY_LIMIT", default=1000)
# Bytes a socket may have queued for sending before it is closed as too slow (4408).
PARLEY_SOCKET_BUFFER = env.int("PARLEY_SOCKET_BUFFER", default=1024 * 1024)
# How long the hub waits for a missing seq before reading it from the database, in seconds.
PARLEY_GAP_WAIT = env.float("PARLEY_GAP_WAIT", default=0.25)
# How often each process checks its rooms' stored heads, to repair a lost last message, in seconds.
PARLEY_SWEEP_INTERVAL = env.float("PARLEY_SWEEP_INTERVAL", default=1.0)
