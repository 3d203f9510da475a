"""Parley's one settings module.

Every knob comes from the environment (the README's configuration table); this is the only
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

from parley import redis_urls

# Lets admin and form classes be written with type arguments (ModelAdmin[Room]) at run time.
django_stubs_ext.monkeypatch()

# The repository's root (example/config/settings.py → ../..): var/ (database, static files, demo
# passwords) stays where `make run` and the deployment files have always put it.
BASE_DIR = Path(__file__).resolve().parent.parent.parent

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
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Before "channels": Parley's runworker command extends Channels' own (it starts the task sweep
    # at once), and of two apps with a command of the same name Django runs the first one's.
    "parley",
    "channels",
    # django-ninja's own copy of Swagger UI for /api/docs (else it loads it from a CDN, which the CSP forbids).
    "ninja",
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
    if config["ENGINE"] == "django.db.backends.postgresql":
        # A server cut off from the network in the middle of a transaction keeps its row locks
        # until PostgreSQL notices it is gone, which TCP alone takes hours to do: a room's seq
        # allocation then stalls on every other server (found by tests/faults/test_partition.py).
        # Parley never waits between the statements of a transaction, so a few seconds is plenty.
        timeout_ms = int(env.float("DATABASE_IDLE_IN_TRANSACTION_TIMEOUT", default=5.0) * 1000)
        options = config.setdefault("OPTIONS", {})
        assert isinstance(options, dict)
        options["options"] = f"-c idle_in_transaction_session_timeout={timeout_ms}"
    # Keep connections open between requests and frames: opening one per database call was a
    # sixth of the database thread's time in the fan-out profile.
    config.setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    config.setdefault("CONN_HEALTH_CHECKS", True)
    return config


DATABASES = {"default": _database_from_url(env.str("DATABASE_URL", default="sqlite:///var/parley.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _redis_hosts(url: str) -> list[dict[str, object]]:
    """channels_redis hosts (one shard per URL of a list, each plain or through Sentinel) whose socket
    timeout outlasts the layer's 5-second blocking reads: redis-py's default of 5 s made every idle
    read fail and log an outage (tests/faults)."""
    return redis_urls.layer_hosts(url, socket_timeout=15, connect_timeout=5)


def _channel_layer_from_url(url: str, prefix: str) -> dict[str, object]:
    """Map CHANNEL_LAYER_URL to a CHANNEL_LAYERS entry (the README's configuration table lists the schemes).

    Every process has one hub channel that receives all of its rooms' events, so channel capacity
    is raised well above the layers' default of 100, past which they drop messages silently.
    """
    parts = urlsplit(url)
    if parts.scheme == "memory":
        return {"BACKEND": "parley.realtime.layers.ThrottledInMemoryChannelLayer", "CONFIG": {"capacity": 10_000}}
    if parts.scheme in ("redis", "rediss", "redis+sentinel", "rediss+sentinel"):
        config = {"hosts": _redis_hosts(url), "prefix": prefix, "capacity": 10_000}
        # channels_redis's layer, with group sends batched into pipelines (parley.realtime.redis_layer).
        return {"BACKEND": "parley.realtime.redis_layer.BatchingRedisChannelLayer", "CONFIG": config}
    if parts.scheme in ("redis+pubsub", "rediss+pubsub", "redis+pubsub+sentinel", "rediss+pubsub+sentinel"):
        # Redis pub/sub channels ignore the database index, so deployments sharing a Redis would
        # hear each other's rooms (found by tests/e2e/test_cross_process.py): the index (of the
        # first shard) goes into the prefix by default.
        hosts = _redis_hosts(url.replace("+pubsub", ""))
        config = {"hosts": hosts, "prefix": f"{prefix}.db{_database_of(hosts[0])}"}
        return {"BACKEND": "parley.realtime.redis_layer.BatchingRedisPubSubChannelLayer", "CONFIG": config}
    if parts.scheme in ("amqp", "amqps"):
        config = {"host": url, "groups_exchange": f"{prefix}.groups"}
        return {"BACKEND": "channels_rabbitmq.core.RabbitmqChannelLayer", "CONFIG": config}
    raise ImproperlyConfigured(
        f"CHANNEL_LAYER_URL has an unknown scheme {parts.scheme!r}: use memory://, redis://, redis+sentinel://, "
        "redis+pubsub://, redis+pubsub+sentinel:// or amqp://."
    )


def _database_of(host: dict[str, object]) -> str:
    if "db" in host:
        return str(host["db"])
    return urlsplit(str(host["address"])).path.strip("/") or "0"


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
# The example site uses Parley's own account pages (parley/accounts/urls.py, mounted at accounts/).
LOGIN_URL = "parley_accounts:login"
LOGIN_REDIRECT_URL = "parley:index"
LOGOUT_REDIRECT_URL = "parley:index"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where `collectstatic` puts the files (and where a reverse proxy may serve them from).
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "var" / "static")))
# Parley's pages load the JavaScript client (parley-client) from static/parley/client/. A built
# wheel has it there (setup.py copies clients/js/src into the package); a checkout serves it
# straight from its source, so no copy exists to fall out of step.
_JS_CLIENT = BASE_DIR / "clients" / "js" / "src"
STATICFILES_DIRS = [("parley/client", _JS_CLIENT)] if _JS_CLIENT.is_dir() else []
# With a manifest from `collectstatic` (production), WhiteNoise serves hashed, compressed files
# from STATIC_ROOT; without one (make run, tests) it serves the apps' static folders directly.
# `collectstatic` itself must use the manifest storage, or it never writes the manifest: the first
# run on a fresh host would copy plain files and the site would never switch (tests/deploy).
_STATIC_MANIFEST = STATIC_ROOT / "staticfiles.json"
_HASHED_STATIC = _STATIC_MANIFEST.exists() or sys.argv[1:2] == ["collectstatic"]
# Uploaded attachments (the "default" storage below): served by Parley's own permission-checked
# views, never by a web server straight from this folder (README "Attachments").
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
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
# WebSocket (open, accepted, closed), a cost that showed in the handshake's profile.
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
# Parley reads one dict, PARLEY (every key optional; defaults, forms and meanings in parley/conf.py
# and the README's configuration table). The example site fills it from the environment, one
# PARLEY_<KEY> variable per key; Parley itself parses and checks the values (`manage.py check`).


def _tasks_mode(layer_url: str) -> str:
    """Where background work runs unless PARLEY_TASKS says: in the server process with memory://
    (one process) and amqp:// (channels_rabbitmq has no normal channels for a worker to read), in
    `manage.py runworker parley.tasks` with a Redis layer."""
    scheme = urlsplit(layer_url).scheme
    return "inline" if scheme in ("memory", "amqp", "amqps") else "worker"


_PARLEY_TASKS = env.str("PARLEY_TASKS", default=_tasks_mode(CHANNEL_LAYER_URL))
if _PARLEY_TASKS not in ("inline", "worker"):
    raise ImproperlyConfigured(
        f"PARLEY_TASKS is {_PARLEY_TASKS!r}: set it to inline (in the server process) or worker "
        "(`manage.py runworker parley.tasks`)."
    )

PARLEY = {
    # Anonymous visitors may use rooms marked guests_allowed: on in debug, off otherwise.
    "GUESTS": env.bool("PARLEY_GUESTS", default=DEBUG),
    "MAX_FRAME": env.int("PARLEY_MAX_FRAME", default=64 * 1024),
    "MAX_BODY": env.int("PARLEY_MAX_BODY", default=4000),
    # The GIN index is built for it: after changing it, run migrate.
    "SEARCH_CONFIG": env.str("PARLEY_SEARCH_CONFIG", default="simple"),
    "REPLAY_LIMIT": env.int("PARLEY_REPLAY_LIMIT", default=1000),
    "SOCKET_BUFFER": env.int("PARLEY_SOCKET_BUFFER", default=1024 * 1024),
    "DB_THREADS": env.int("PARLEY_DB_THREADS", default=4),
    "PRESENCE_TTL": env.float("PARLEY_PRESENCE_TTL", default=45.0),
    "GAP_WAIT": env.float("PARLEY_GAP_WAIT", default=0.25),
    "SWEEP_INTERVAL": env.float("PARLEY_SWEEP_INTERVAL", default=1.0),
    "PUBLISH_CONCURRENCY": env.int("PARLEY_PUBLISH_CONCURRENCY", default=32),
    # Rate limits "rate/burst" ("0": off), shared by all processes through Redis when REDIS_URL is set.
    "SEND_RATE": env.str("PARLEY_SEND_RATE", default="10/20"),
    "SUBSCRIBE_RATE": env.str("PARLEY_SUBSCRIBE_RATE", default="5/30"),
    "HISTORY_RATE": env.str("PARLEY_HISTORY_RATE", default="10/30"),
    "API_RATE": env.str("PARLEY_API_RATE", default="10/30"),
    "HANDSHAKE_RATE": env.str("PARLEY_HANDSHAKE_RATE", default="10/100"),
    "ABUSE_REFUSALS": env.int("PARLEY_ABUSE_REFUSALS", default=50),
    "ABUSE_WINDOW": env.float("PARLEY_ABUSE_WINDOW", default=10.0),
    "TRUSTED_PROXIES": env.int("PARLEY_TRUSTED_PROXIES", default=0),
    # Background work (parley/tasks), webhooks, mention e-mails.
    "TASKS": _PARLEY_TASKS,
    "TASKS_SWEEP_INTERVAL": env.float("PARLEY_TASKS_SWEEP_INTERVAL", default=5.0),
    "TASKS_CONCURRENCY": env.int("PARLEY_TASKS_CONCURRENCY", default=20),
    "WEBHOOK_TIMEOUT": env.float("PARLEY_WEBHOOK_TIMEOUT", default=10.0),
    "WEBHOOK_MAX_ATTEMPTS": env.int("PARLEY_WEBHOOK_MAX_ATTEMPTS", default=8),
    "WEBHOOK_RETRY_DELAY": env.float("PARLEY_WEBHOOK_RETRY_DELAY", default=1.0),
    "WEBHOOK_RETRY_MAX_DELAY": env.float("PARLEY_WEBHOOK_RETRY_MAX_DELAY", default=600.0),
    "MENTION_EMAIL_DELAY": env.float("PARLEY_MENTION_EMAIL_DELAY", default=300.0),
    "SITE_URL": env.str("PARLEY_SITE_URL", default=""),
    # Shared presence, who is online and shared rate limits; Parley's Redis keys start with the
    # layer's prefix, so deployments sharing a Redis stay apart.
    "REDIS_URL": REDIS_URL,
    "REDIS_CONNECTIONS": env.int("PARLEY_REDIS_CONNECTIONS", default=50),
    "KEY_PREFIX": CHANNEL_LAYER_PREFIX,
    # Security (README "Security"): frames, subscriptions, log-ins, slow clients, /metrics,
    # webhook receivers and notification links.
    "FRAME_RATE": env.str("PARLEY_FRAME_RATE", default="10/60"),
    "MAX_SUBSCRIPTIONS": env.int("PARLEY_MAX_SUBSCRIPTIONS", default=100),
    "LOGIN_FAILURES": env.str("PARLEY_LOGIN_FAILURES", default="5/300"),
    "LOGIN_USERNAME_FAILURES": env.str("PARLEY_LOGIN_USERNAME_FAILURES", default="100/3600"),
    "LOGIN_ADDRESS_FAILURES": env.str("PARLEY_LOGIN_ADDRESS_FAILURES", default="20/300"),
    # Parley's own sign-up and sign-out pages (accounts/, in config/urls.py); signing in follows LOGIN_URL.
    "SIGNUP_URL": "parley_accounts:signup",
    "LOGOUT_URL": "parley_accounts:logout",
    "HEADER_TIMEOUT": env.float("PARLEY_HEADER_TIMEOUT", default=10.0),
    "METRICS_ALLOWED_IPS": env.list("PARLEY_METRICS_ALLOWED_IPS", default=["127.0.0.0/8", "::1/128"]),
    "METRICS_TOKEN": env.str("PARLEY_METRICS_TOKEN", default=""),
    "WEBHOOK_ALLOWED_NETWORKS": env.list("PARLEY_WEBHOOK_ALLOWED_NETWORKS", default=[]),
    "WEBHOOK_LOOKUP_TIMEOUT": env.float("PARLEY_WEBHOOK_LOOKUP_TIMEOUT", default=3.0),
    "WEBHOOKS_PER_ROOM": env.int("PARLEY_WEBHOOKS_PER_ROOM", default=10),
    "NOTIFICATION_URL_ORIGINS": env.list("PARLEY_NOTIFICATION_URL_ORIGINS", default=[]),
    "WEBSOCKET_PATH": env.str("PARLEY_WEBSOCKET_PATH", default=None),
    # Attachments: sizes in bytes; types are read from each file's content, never its name.
    "ATTACHMENT_MAX_SIZE": env.int("PARLEY_ATTACHMENT_MAX_SIZE", default=10 * 1024 * 1024),
    "ATTACHMENT_MAX_MESSAGE_SIZE": env.int("PARLEY_ATTACHMENT_MAX_MESSAGE_SIZE", default=25 * 1024 * 1024),
    "ATTACHMENT_MAX_COUNT": env.int("PARLEY_ATTACHMENT_MAX_COUNT", default=10),
    "ATTACHMENT_TYPES": env.list(
        "PARLEY_ATTACHMENT_TYPES",
        default=[
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
            "application/pdf",
            "text/plain",
            "application/zip",
        ],
    ),
    "ATTACHMENT_ORPHAN_HOURS": env.float("PARLEY_ATTACHMENT_ORPHAN_HOURS", default=24.0),
}

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
