"""Settings for the Image Access Management portal, read from the environment (django-environ).

Every variable is documented in docs/configuration.md and in .env.example.
"""

import re
from pathlib import Path

import environ
from csp.constants import NONE, SELF

from identity.config import ProviderConfigError, providers_from

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="" if not DEBUG else "dev-insecure-secret-key")
if not SECRET_KEY:
    raise environ.ImproperlyConfigured("Set SECRET_KEY (or DEBUG=true for local development).")
# Django's own deploy check (security.W009): at least 50 characters, 5 different ones.
if not DEBUG and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    raise environ.ImproperlyConfigured(
        "SECRET_KEY is too weak: use at least 50 random characters, e.g. the output of "
        "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# An empty DATABASE_URL means the default, the embedded SQLite file.
DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] not in (
    "django.db.backends.postgresql",
    "django.db.backends.sqlite3",
):
    raise environ.ImproperlyConfigured(
        "DATABASE_URL must be a postgres://... or sqlite:///... URL "
        f"(got a {DATABASE_URL.split(':', 1)[0]!r} URL)."
    )
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# Django's health check (a SELECT 1 on the first query of every request that reuses a
# connection) replaces a connection the server dropped before a page uses it. The token pool
# (PORTAL_POOL=token, gunicorn.conf.py) goes without it: its reads (core/prepared.py) retry once
# on a new connection when the kept one turns out dropped, which costs nothing the rest of the
# time. DATABASE_HEALTH_CHECKS overrides either default.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool(
    "DATABASE_HEALTH_CHECKS", default=env.str("PORTAL_POOL", default="web") != "token"
)
# PostgreSQL connections bind parameters on the server (psycopg's server_side_binding, which
# Django documents), so that psycopg prepares a statement once it has run 5 times on a
# connection (prepare_threshold): the token service's compiled reads (core/prepared.py) are then
# planned once per connection. Turn DATABASE_PREPARED_STATEMENTS off behind a connection
# pooler in transaction mode that cannot keep named prepared statements (PgBouncer before
# 1.21, or max_prepared_statements=0): the statements then run unprepared.
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True,
        prepare_threshold=5 if DATABASE_PREPARED_STATEMENTS else None,
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "orgs",
    "policies",
    "signin",
    "activity",
    "identity",
    "tokens",
    "api",
    "provisioning",
    "portal",  # the wiring: seed_demo, which makes data of every app
]

MIDDLEWARE = [
    "core.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.middleware.QueryControlCharactersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "orgs.context_processors.invitations",
                "policies.context_processors.inbox",
                "identity.context_processors.single_sign_on",
            ],
            "builtins": ["core.templatefilters"],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Every password check is counted and bounded (core.throttle), and refused where single sign-on
# is required (orgs.backends).
AUTHENTICATION_BACKENDS = ["orgs.backends.SignInBackend"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "orgs:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients).
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# Load balancers probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)

# Content-Security-Policy (django-csp): the pages load only their own script and stylesheet.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Registry token service (the Distribution token authentication protocol).
TOKEN_SIGNING_KEY_FILE = Path(
    env.str("TOKEN_SIGNING_KEY_FILE", default=str(BASE_DIR / "var/token.key"))
)
TOKEN_SIGNING_CERT_FILE = Path(
    env.str("TOKEN_SIGNING_CERT_FILE", default=str(BASE_DIR / "var/token.crt"))
)
TOKEN_ISSUER = env.str("TOKEN_ISSUER", default="iam-portal")
REGISTRY_SERVICE = env.str("REGISTRY_SERVICE", default="iam-registry")
TOKEN_TTL_SECONDS = env.int("TOKEN_TTL_SECONDS", default=300)
if not 1 <= TOKEN_TTL_SECONDS <= 86400:
    raise environ.ImproperlyConfigured("TOKEN_TTL_SECONDS must be between 1 and 86400.")
# Each worker looks at the key files again this often (seconds) and reloads them when they changed.
TOKEN_SIGNING_KEY_CHECK_SECONDS = env.float("TOKEN_SIGNING_KEY_CHECK_SECONDS", default=5.0)
if not 0 <= TOKEN_SIGNING_KEY_CHECK_SECONDS <= 3600:
    raise environ.ImproperlyConfigured("TOKEN_SIGNING_KEY_CHECK_SECONDS must be 0 to 3600.")
# /readyz warns (still 200) this many days before the signing certificate expires.
TOKEN_SIGNING_CERT_WARN_DAYS = env.int("TOKEN_SIGNING_CERT_WARN_DAYS", default=30)
if TOKEN_SIGNING_CERT_WARN_DAYS < 0:
    raise environ.ImproperlyConfigured("TOKEN_SIGNING_CERT_WARN_DAYS must not be negative.")
ANONYMOUS_PULLS = env.bool("ANONYMOUS_PULLS", default=False)
# The registry clients sign in to and pull from (host[:port], as in `docker login HOST`): the
# Access tokens page shows it in its login commands. The default is the development registry.
REGISTRY_HOST = env.str("REGISTRY_HOST", default="127.0.0.1:5000")
_HOST_AND_PORT = (
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
    r"[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?"
)
if not re.fullmatch(_HOST_AND_PORT, REGISTRY_HOST):
    raise environ.ImproperlyConfigured(
        f"REGISTRY_HOST must be a host name with an optional port, e.g. registry.example.com or "
        f"127.0.0.1:5000, without a scheme or a path (got {REGISTRY_HOST!r})."
    )
# The organisation's policy-checked Docker Hub cache (host[:port], deploy/docker-hub-cache):
# the Access tokens and Enforce sign-in pages show the commands that use it. Empty: no cache.
DOCKER_HUB_CACHE_HOST = env.str("DOCKER_HUB_CACHE_HOST", default="")
if DOCKER_HUB_CACHE_HOST and not re.fullmatch(_HOST_AND_PORT, DOCKER_HUB_CACHE_HOST):
    raise environ.ImproperlyConfigured(
        "DOCKER_HUB_CACHE_HOST must be a host name with an optional port, e.g. "
        f"cache.example.com, without a scheme or a path (got {DOCKER_HUB_CACHE_HOST!r})."
    )
# Registry clients may also sign in with the account password (slow by design: PBKDF2).
REGISTRY_PASSWORD_AUTH = env.bool("REGISTRY_PASSWORD_AUTH", default=True)
# A registry session (refresh token) opened with the password ends after this many days, and at
# once when the password changes; one opened with an access token lives as long as the token.
REGISTRY_PASSWORD_SESSION_DAYS = env.int("REGISTRY_PASSWORD_SESSION_DAYS", default=30)
if not 1 <= REGISTRY_PASSWORD_SESSION_DAYS <= 365:
    raise environ.ImproperlyConfigured("REGISTRY_PASSWORD_SESSION_DAYS must be 1..365.")

# E-mail (invitations), django-environ's documented way: EMAIL_URL sets EMAIL_BACKEND,
# EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD and EMAIL_USE_TLS/SSL, e.g.
# smtp+tls://user:password@mail.example.com:587. The default prints every mail to the server's
# output (`make run` shows invitation links there).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="IAM Portal <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The portal's address as its users reach it (scheme, host, optional port; no path): every
# e-mailed link (invitations, exception requests, password resets) starts with it, never with
# the request's Host header. Unset, it is where gunicorn and `make run` listen
# (http://HOST:PORT, 127.0.0.1:8000 by default), unless ALLOWED_HOSTS names another host
# while DEBUG is off: then the portal refuses to start without it.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
SITE_URL = env.str("SITE_URL", default="").rstrip("/")
if not SITE_URL:
    if not DEBUG and not set(ALLOWED_HOSTS) <= LOCAL_HOSTS:
        raise environ.ImproperlyConfigured(
            "Set SITE_URL to the portal's address as its users reach it, e.g. "
            "https://portal.example.com: e-mailed links (invitations, password resets) are "
            "built from it."
        )
    SITE_URL = f"http://{env.str('HOST', default='127.0.0.1')}:{env.int('PORT', default=8000)}"
if not re.fullmatch(r"https?://[^/?#@\s]+", SITE_URL):
    raise environ.ImproperlyConfigured(
        "SITE_URL must be http:// or https:// with a host and an optional port, without a path, "
        f"query or user, e.g. https://portal.example.com (got {SITE_URL!r})."
    )

# Membership by consent: invitations and sign-up.
INVITATION_TTL_DAYS = env.int("INVITATION_TTL_DAYS", default=7)
if not 1 <= INVITATION_TTL_DAYS <= 90:
    raise environ.ImproperlyConfigured("INVITATION_TTL_DAYS must be between 1 and 90.")
# Without an invitation nobody can create an account, unless the operator opens sign-up.
SIGNUP_OPEN = env.bool("SIGNUP_OPEN", default=False)
# Who may create organisations in the portal: any signed-in user, or site staff only (staff can
# always, in the portal and in the admin). Default: "any" with DEBUG (make run), else "staff".
ORGANIZATION_CREATION = env.str("ORGANIZATION_CREATION", default="any" if DEBUG else "staff")
if ORGANIZATION_CREATION not in ("any", "staff"):
    raise environ.ImproperlyConfigured(
        f"ORGANIZATION_CREATION must be any or staff, not {ORGANIZATION_CREATION!r}."
    )
# Rate limits (core/ratelimit.py, counted in the shared cache; while it is down, these
# actions are refused): invitations sent per organisation per hour and per invited address per
# day, and the invitation and organisation-creation forms' answers per user per hour (each
# answer says whether a username or an organisation name exists).
INVITATIONS_PER_ORGANIZATION_PER_HOUR = env.int("INVITATIONS_PER_ORGANIZATION_PER_HOUR", default=20)
INVITATIONS_PER_ADDRESS_PER_DAY = env.int("INVITATIONS_PER_ADDRESS_PER_DAY", default=3)
INVITE_ATTEMPTS_PER_USER_PER_HOUR = env.int("INVITE_ATTEMPTS_PER_USER_PER_HOUR", default=60)
ORGANIZATION_CREATE_ATTEMPTS_PER_USER_PER_HOUR = env.int(
    "ORGANIZATION_CREATE_ATTEMPTS_PER_USER_PER_HOUR", default=10
)
for _name in (
    "INVITATIONS_PER_ORGANIZATION_PER_HOUR",
    "INVITATIONS_PER_ADDRESS_PER_DAY",
    "INVITE_ATTEMPTS_PER_USER_PER_HOUR",
    "ORGANIZATION_CREATE_ATTEMPTS_PER_USER_PER_HOUR",
):
    if vars()[_name] < 1:
        raise environ.ImproperlyConfigured(f"{_name} must be at least 1.")

# The shared cache: sign-in failure counters live here, so every worker process and every node
# must see the same one. Production: Redis (CACHE_URL=redis://host:6379/0, or REDIS_URL). The
# default needs no service and is shared by the worker processes of one machine: a directory of
# files. A miss (the usual case: no failures) costs one failed open(), ~5 µs on the token
# service's path, where a database cache would add a query (~80 µs of CPU plus a round trip).
# LocMemCache would give each worker its own counters, so it is refused.
CACHE_URL = (
    env.str("CACHE_URL", default="")
    or env.str("REDIS_URL", default="")
    or f"filecache://{BASE_DIR / 'var' / 'cache'}?max_entries=100000"
)
CACHES = {"default": env.cache_url_config(CACHE_URL)}
# django-environ reads ?key_prefix= into a lower-case key that Django ignores: make it Django's.
if "key_prefix" in CACHES["default"]:
    CACHES["default"]["KEY_PREFIX"] = CACHES["default"].pop("key_prefix")
if CACHES["default"]["BACKEND"].endswith(("LocMemCache", "DummyCache")):
    raise environ.ImproperlyConfigured(
        "CACHE_URL must be shared by every worker process: use redis://, filecache:// or dbcache://."
    )

# Single sign-on with OpenID Connect (identity/, docs/sso.md). OIDC_PROVIDERS is a JSON list of
# {"id", "label", "issuer", "client_id", "client_secret"[, "scope", "groups_claim"]}: one button
# each on the sign-in page (staff may add more in the admin). An existing account is linked
# only by an e-mail address the provider marks verified, in one of SSO_LINK_EMAIL_DOMAINS.
# SSO_ONLY refuses every password sign-in except those of the accounts in SSO_BREAK_GLASS_USERS.
try:
    OIDC_PROVIDERS = providers_from(env.json("OIDC_PROVIDERS", default=[]))
except (ValueError, ProviderConfigError) as error:
    raise environ.ImproperlyConfigured(f"OIDC_PROVIDERS is not valid: {error}") from None
SSO_LINK_EMAIL_DOMAINS = [
    domain.lower() for domain in env.list("SSO_LINK_EMAIL_DOMAINS", default=[])
]
SSO_ONLY = env.bool("SSO_ONLY", default=False)
SSO_BREAK_GLASS_USERS = env.list("SSO_BREAK_GLASS_USERS", default=[])
# How long the provider may take to answer (discovery, code exchange, keys), in seconds.
OIDC_TIMEOUT_SECONDS = env.float("OIDC_TIMEOUT_SECONDS", default=10.0)

# Throttled password sign-in (core.throttle), on the web and admin sign-in forms, the API and
# the registry token service; access and refresh tokens are never throttled. Failures are
# counted in the shared cache (in each process's memory while it is down). After
# LOGIN_FAILURE_LIMIT failures of one account from one address, or LOGIN_ADDRESS_FAILURE_LIMIT
# failures from one address whatever the usernames, password sign-ins are refused from there
# until LOGIN_FAILURE_WINDOW seconds have passed since the last failure; a successful sign-in
# clears the account's count. At most PASSWORD_HASH_CONCURRENCY hashes run at once per process
# (a request waits up to PASSWORD_HASH_WAIT seconds for a slot, then is refused as busy).
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=30)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=900)
if (
    min(LOGIN_FAILURE_LIMIT, LOGIN_ADDRESS_FAILURE_LIMIT) < 1
    or not 1 <= LOGIN_FAILURE_WINDOW <= 86400
):
    raise environ.ImproperlyConfigured(
        "LOGIN_FAILURE_LIMIT and LOGIN_ADDRESS_FAILURE_LIMIT must be at least 1 and "
        "LOGIN_FAILURE_WINDOW 1..86400 seconds."
    )
PASSWORD_HASH_CONCURRENCY = env.int("PASSWORD_HASH_CONCURRENCY", default=2)
PASSWORD_HASH_WAIT = env.float("PASSWORD_HASH_WAIT", default=2.0)
if PASSWORD_HASH_CONCURRENCY < 1 or not 0 <= PASSWORD_HASH_WAIT <= 30:
    raise environ.ImproperlyConfigured(
        "PASSWORD_HASH_CONCURRENCY must be at least 1 and PASSWORD_HASH_WAIT 0..30 seconds."
    )
# Behind N reverse proxies that each append the address they saw to X-Forwarded-For, the
# client's address is the N-th entry from the right; 0 trusts no header (REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
SILENCED_SYSTEM_CHECKS: list[str] = []

# The activity log: every decision of the token service is recorded (one row per repository and
# organisation, one INSERT per request) and written as one JSON line on the portal.decisions
# logger (stderr, or DECISION_LOG_FILE). Rows older than DECISION_LOG_RETENTION_DAYS are deleted
# by `manage.py prune_activity`. DECISION_LOG_ENABLED=false turns both off (for comparisons).
DECISION_LOG_ENABLED = env.bool("DECISION_LOG_ENABLED", default=True)
DECISION_LOG_RETENTION_DAYS = env.int("DECISION_LOG_RETENTION_DAYS", default=90)
if not 1 <= DECISION_LOG_RETENTION_DAYS <= 3650:
    raise environ.ImproperlyConfigured("DECISION_LOG_RETENTION_DAYS must be between 1 and 3650.")
DECISION_LOG_FILE = env.str("DECISION_LOG_FILE", default="")
# How the rows are written (activity/decisions.py): 0 = before each answer, one INSERT per request
# (a failed write refuses the token); more = each worker writes what it queued at most this often
# (seconds), in one INSERT, refusing new requests once DECISION_LOG_MAX_PENDING wait.
DECISION_LOG_FLUSH_SECONDS = env.float("DECISION_LOG_FLUSH_SECONDS", default=0.5)
DECISION_LOG_MAX_PENDING = env.int("DECISION_LOG_MAX_PENDING", default=50000)
if not 0 <= DECISION_LOG_FLUSH_SECONDS <= 60 or DECISION_LOG_MAX_PENDING < 1:
    raise environ.ImproperlyConfigured(
        "DECISION_LOG_FLUSH_SECONDS must be between 0 and 60, DECISION_LOG_MAX_PENDING at least 1."
    )
# The Org Permissions page's impact preview (what unsaved settings would have done to recent
# pulls): it replays the activity log, an app above policies, so the wiring names it here.
POLICY_IMPACT_PREVIEW = "activity.impact.draft_impact"

# Logs go to stderr, one line per record: plain text, or JSON objects with LOG_FORMAT=json.
# portal.requests has one line per request (core/middleware.py); expected refusals (4xx) are
# logged without a traceback.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise environ.ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "bare": {"format": "%(message)s"},  # the message is a JSON object already
    },
    "filters": {"no_refusal_tracebacks": {"()": "core.logfilters.NoRefusalTracebacks"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT},
        "decisions": (
            {"class": "logging.handlers.WatchedFileHandler", "filename": DECISION_LOG_FILE}
            if DECISION_LOG_FILE
            else {"class": "logging.StreamHandler"}
        )
        | {"formatter": "bare"},
    },
    "loggers": {
        # One JSON line per pull decision (activity.decisions.pull_decisions_record).
        "portal.decisions": {"handlers": ["decisions"], "level": "INFO", "propagate": False},
        "django.request": {"filters": ["no_refusal_tracebacks"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"

# The API (Django REST framework, api/): JSON only; bearer tokens first, then the browser
# session with CSRF enforced on unsafe methods (api/authentication.py says why); every endpoint
# needs a signed-in user within their access token's scope unless it says otherwise.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "api.permissions.SignedIn",
        "api.permissions.WithinTokenScope",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_METADATA_CLASS": None,  # OPTIONS is not part of the API: 405
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
}
# The OpenAPI 3 schema (/api/schema/) and its docs (/api/docs/), whose Swagger UI files are
# served from this server (drf-spectacular-sidecar): the Content-Security-Policy allows no CDN.
SPECTACULAR_SETTINGS = {
    "TITLE": "IAM Portal API",
    "DESCRIPTION": (
        "Docker Hub-compatible endpoints (/v2/...) and the portal's own API (/api/v1/...). "
        "Authenticate with `Authorization: Bearer <access token>` or with the bearer that "
        "POST /v2/auth/token returns."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    "TAGS": [
        {"name": "Docker Hub compatible", "description": "Docker Hub's paths, bodies and codes."},
        {"name": "Organizations"},
        {"name": "Settings"},
        {"name": "Allowlist"},
        {"name": "Exception requests"},
        {"name": "Check"},
        {"name": "Activity"},
    ],
}

# Bulk work (the activity CSV export) takes at most this part of one CPU while other tasks wait
# for the node's CPUs (core.pacing; 1: never paused).
EXPORT_CPU_SHARE = env.float("EXPORT_CPU_SHARE", default=0.05)
if not 0 < EXPORT_CPU_SHARE <= 1:
    raise environ.ImproperlyConfigured("EXPORT_CPU_SHARE must be more than 0 and at most 1.")
