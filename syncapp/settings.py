"""Settings, read only from environment variables (and an optional `.env` file beside manage.py).

Every variable is listed with its default in `.env.example`. Defaults suit the local demo; in
production (DEBUG off) a missing secret is an error, not a silent fallback.
"""

import base64
import datetime as dt
import os
import re
import secrets
import sys
import warnings
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# Authlib 1.9 nudges towards httpx2, which this project does not use: we keep httpx. Its module
# forces its own warnings to "always" on import, so import it first, then silence that one.
import authlib.deprecate  # noqa: E402,F401

warnings.filterwarnings("ignore", message="The httpx module is deprecated")

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _inline_comment(path: Path) -> str:
    """The first `KEY=value  # note` line of a .env, if any. django-environ keeps such a note as part
    of the value (its parse_comments is off by default, and turning it on would cut a secret holding
    a '#'): SITE_URL would carry the note and SECURE_COOKIES=true  # ... would read as false."""
    lines = path.read_text().splitlines() if path.is_file() else []
    for number, line in enumerate(lines, start=1):
        found = re.match(r"(?:export )?([A-Za-z_0-9]+)=(.*)\Z", line)
        if found and re.search(r"\s#", found[2]) and not re.fullmatch(r"""(['"]).*\1""", found[2]):
            return f"{found[1]} on line {number}"
    return ""


if _commented := _inline_comment(BASE_DIR / ".env"):
    raise ImproperlyConfigured(
        f".env has a comment after a value ({_commented}), which would become part of the value: "
        "put the comment on a line of its own."
    )


def strict(name: str, read, hint: str, **kwargs):
    """One variable read through django-environ; a value it cannot parse stops the start with one
    line that names the variable and says what it must look like (never the value: it may hold a
    password). manage.py prints that line instead of a traceback."""
    try:
        with warnings.catch_warnings():
            # environ only warns on a URL of unknown scheme, echoing the URL with its password.
            warnings.simplefilter("error")
            return read(name, **kwargs)
    except (ValueError, KeyError, UserWarning):
        raise ImproperlyConfigured(f"{name} is not valid: {hint}") from None


def flag(name: str, default: bool) -> bool:
    """A true/false variable; unset or blank is the default. env.bool reads any other word as false,
    so a typo would silently switch a protection such as SECURE_COOKIES off: here it stops the start."""
    value = env.str(name, default="").strip().lower()
    if value in ("true", "yes", "on", "1"):
        return True
    if value in ("false", "no", "off", "0"):
        return False
    if value:
        raise ImproperlyConfigured(f"{name} is not valid: expected true or false.")
    return default


DEBUG = flag("DEBUG", default=False)
# Commands that read only the code (e.g. `makemigrations --check` on a fresh clone) need no
# secrets: they get throwaway ones that nothing is ever signed or encrypted with.
_CODE_ONLY_COMMANDS = {"makemigrations", "check", "showmigrations", "sqlmigrate", "help"}
_code_only = len(sys.argv) > 1 and Path(sys.argv[0]).name == "manage.py" and sys.argv[1] in _CODE_ONLY_COMMANDS

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY.strip():
    SECRET_KEY = secrets.token_urlsafe(50) if _code_only else ""
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY is not set: run `make .env` or set it in the environment.")
# The bar of Django's own deploy check (security.W009): a short key can be guessed offline from
# any signed cookie, and with it every session forged. Nor is a key random that holds a space (a
# note pasted after it) or is the throwaway one of `startproject`.
_KEY_HINT = "use at least 50 random characters, e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'."
if not DEBUG and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured(f"SECRET_KEY is too short for production: {_KEY_HINT}")
if not DEBUG and (re.search(r"\s", SECRET_KEY) or SECRET_KEY.startswith("django-insecure-")):
    raise ImproperlyConfigured(
        f"SECRET_KEY is not a random key (it holds a space or starts django-insecure-): {_KEY_HINT}"
    )

# Fernet keys (comma-separated, newest first) that encrypt OAuth tokens at rest. Rotation: put a
# new key first, keep the old ones after it, run `manage.py rotate_token_key`, then drop the old.
TOKEN_ENCRYPTION_KEYS = [key.strip() for key in env.list("TOKEN_ENCRYPTION_KEYS", default=[]) if key.strip()] or (
    [base64.urlsafe_b64encode(os.urandom(32)).decode()] if _code_only else []
)
if not TOKEN_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("TOKEN_ENCRYPTION_KEYS is not set: run `make .env` or set it.")


def _is_fernet_key(key: str) -> bool:
    try:
        Fernet(key)
    except ValueError:
        return False
    return True


# Checked at start, not at the first token read: a typo would otherwise surface as a failed sync.
_bad_keys = [str(i) for i, key in enumerate(TOKEN_ENCRYPTION_KEYS, start=1) if not _is_fernet_key(key)]
if _bad_keys:
    raise ImproperlyConfigured(
        f"TOKEN_ENCRYPTION_KEYS is not valid: key {', '.join(_bad_keys)} of {len(TOKEN_ENCRYPTION_KEYS)} "
        "is not a Fernet key (32 url-safe base64-encoded bytes); make one with "
        "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'."
    )

SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_q",
    "axes",
    "syncapp.core",
    "syncapp.connections",
    "syncapp.sync",
    "syncapp.dashboard",
    "syncapp.reconcile",
    "syncapp.webhooks",
    "syncapp.alerts",
]

SANDBOX_ENABLED = flag("SANDBOX_ENABLED", default=False)
if SANDBOX_ENABLED:
    INSTALLED_APPS += ["syncapp.sandbox", "syncapp.sandbox.xero", "syncapp.sandbox.procore"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "syncapp.core.middleware.RejectNulBytesMiddleware",  # before anything reads the session or a form
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it turns a lockout into the login page that says so
]

ROOT_URLCONF = "syncapp.urls"
WSGI_APPLICATION = "syncapp.wsgi.application"

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
                "syncapp.core.context_processors.roles",
            ],
        },
    },
]

DATABASES = {
    "default": strict(
        "DATABASE_URL",
        env.db,
        "expected a URL such as postgres://user:password@host:5432/name or sqlite:///db.sqlite3.",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and the sandbox write to one file in the demo: WAL and
    # immediate transactions keep them from tripping over "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords a username is locked
# whatever the address, and an address whatever the username, for LOGIN_COOLOFF_MINUTES after the
# last failure. Per username stops a guesser who rotates addresses; per address stops one who
# sprays many usernames. (A username+address pair adds nothing: with axes' one limit the address
# lock always comes first.) An Admin unlocks early with `manage.py axes_reset_username NAME`.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = strict("LOGIN_FAILURE_LIMIT", env.int, "expected a whole number, e.g. 5.", default=5)
AXES_COOLOFF_TIME = dt.timedelta(
    minutes=strict("LOGIN_COOLOFF_MINUTES", env.float, "expected a number of minutes, e.g. 15.", default=15.0)
)
AXES_RESET_ON_SUCCESS = True  # a right password forgives earlier typos of that user and address
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True  # hammering keeps it locked; the page says so
AXES_LOCKOUT_CALLABLE = "syncapp.core.lockout.locked_out"
AXES_CLIENT_IP_CALLABLE = "syncapp.core.lockout.client_address"
# Reverse proxies in front of the web server (each appends to X-Forwarded-For); 0 when gunicorn
# faces the network itself. The login limits count per client address, not per proxy.
PROXY_COUNT = strict("PROXY_COUNT", env.int, "expected the number of proxies in front, e.g. 0 or 1.", default=0)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = False
FORMAT_MODULE_PATH = ["syncapp.formats"]  # one date format on every page: "1 Dec 2026, 14:05"
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = flag("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_FAILURE_VIEW = "syncapp.core.errors.csrf_failure"  # the site's 403 page, saying what to do
X_FRAME_OPTIONS = "DENY"

# HTTPS in production: a site that sends its cookies only over HTTPS also redirects plain HTTP to
# it and tells browsers (HSTS) never to try HTTP again. The plain-http demo turns all of it off
# with SECURE_COOKIES=false. Behind a proxy that ends TLS, name the header it sets
# (SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO), or the redirect would loop.
SECURE_SSL_REDIRECT = flag("SECURE_SSL_REDIRECT", default=SESSION_COOKIE_SECURE)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers and monitors probe it over plain HTTP
SECURE_HSTS_SECONDS = strict(
    "SECURE_HSTS_SECONDS",
    env.int,
    "expected a whole number of seconds, e.g. 31536000 (a year).",
    default=31_536_000 if SECURE_SSL_REDIRECT else 0,
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True  # only hosts under this site's own name
SECURE_HSTS_PRELOAD = True  # effective only once the owner submits the domain to the preload list
if _proxy_ssl_header := env.str("SECURE_PROXY_SSL_HEADER", default=""):
    SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header, "https")

# Content-Security-Policy: scripts and styles only from our own static files, so injected markup
# cannot run script. No inline <script>, on...= handler or style= attribute exists in templates/
# (a test guards it); htmx's own inline indicator style is switched off in base.html.
CONTENT_SECURITY_POLICY = {
    # The sandbox imitates Xero's and Procore's own pages (inline styles); it is a local demo tool.
    "EXCLUDE_URL_PREFIXES": ["/sandbox/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        # form-action gets the OAuth login pages below, once their URLs are known.
    },
}

# --- Email: alerts to Admins and the optional run summary for Finance (syncapp.alerts). ---
# EMAIL_URL picks Django's email backend: consolemail:// prints each mail to the server's output
# (the demo); smtp+tls://user:password@smtp.example.com:587 sends it (percent-encode an @ or : in
# the user or password). A slow mail server cannot hold a worker longer than EMAIL_TIMEOUT.
def _email_url(name: str, **kwargs) -> dict:
    try:
        return env.email_url(name, **kwargs)
    except ImproperlyConfigured:  # environ's own message would not name the variable
        raise ValueError(name) from None


globals().update(
    {
        key: value
        for key, value in strict(
            "EMAIL_URL",
            _email_url,
            "expected a URL such as smtp+tls://user:password@smtp.example.com:587 or consolemail://.",
            default="consolemail://",
        ).items()
        if value is not None
    }
)
EMAIL_TIMEOUT = strict("EMAIL_TIMEOUT", env.float, "expected a number of seconds, e.g. 10.", default=10.0)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Xero-Procore sync <sync@localhost>")

# --- Background work (django-q2). ORM broker by default; Redis when Q_REDIS_URL is set. ---
Q_CLUSTER = {
    "name": "syncapp",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=3600),
    "retry": env.int("Q_TIMEOUT", default=3600) + 60,
    "max_attempts": 1,
    "catch_up": False,
    "ack_failures": True,
    "poll": 0.5,
}
if env.str("Q_REDIS_URL", default=""):
    Q_CLUSTER["redis"] = env.str("Q_REDIS_URL")
else:
    Q_CLUSTER["orm"] = "default"

# --- Xero and Procore. With the sandbox on, an unset URL points at the sandbox. ---
# name -> (real service, path under SITE_URL/sandbox/)
SERVICE_URLS = {
    "XERO_AUTHORIZE_URL": ("https://login.xero.com/identity/connect/authorize", "xero/identity/connect/authorize"),
    "XERO_TOKEN_URL": ("https://identity.xero.com/connect/token", "xero/identity/connect/token"),
    "XERO_REVOKE_URL": ("https://identity.xero.com/connect/revocation", "xero/identity/connect/revocation"),
    "XERO_CONNECTIONS_URL": ("https://api.xero.com/connections", "xero/connections"),
    "XERO_API_URL": ("https://api.xero.com/api.xro/2.0", "xero/api.xro/2.0"),
    "XERO_WEB_URL": ("https://go.xero.com", "xero/web"),
    "PROCORE_LOGIN_URL": ("https://login.procore.com", "procore/login"),
    "PROCORE_API_URL": ("https://api.procore.com", "procore/api"),
    "PROCORE_WEB_URL": ("https://app.procore.com", "procore/web"),
}


def sandbox_url(name: str, site_url: str) -> str:
    return f"{site_url}/sandbox/{SERVICE_URLS[name][1]}"


for _name, (_real, _path) in SERVICE_URLS.items():
    _default = sandbox_url(_name, SITE_URL) if SANDBOX_ENABLED else _real
    globals()[_name] = env.str(_name, default=_default).rstrip("/")

# The Connect buttons post to us and are redirected to these login pages: browsers hold a form's
# redirects to form-action too.
CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"] = [
    "'self'",
    *sorted({"/".join(globals()[name].split("/", 3)[:3]) for name in ("XERO_AUTHORIZE_URL", "PROCORE_LOGIN_URL")}),
]

XERO_CLIENT_ID = env.str("XERO_CLIENT_ID", default="")
XERO_CLIENT_SECRET = env.str("XERO_CLIENT_SECRET", default="")
XERO_SCOPES = env.list(
    "XERO_SCOPES",
    default=[
        "offline_access",
        "accounting.payments.read",
        "accounting.invoices.read",
        "accounting.contacts.read",
        "accounting.settings.read",
    ],
)

# Xero webhooks (SITE_URL/webhooks/xero/): the key Xero's developer portal shows for the app's
# webhook; deliveries are checked against it, and without it every delivery is refused (off).
XERO_WEBHOOK_KEY = env.str("XERO_WEBHOOK_KEY", default="")

PROCORE_CLIENT_ID = env.str("PROCORE_CLIENT_ID", default="")
PROCORE_CLIENT_SECRET = env.str("PROCORE_CLIENT_SECRET", default="")

# HTTP timeouts (seconds) for calls to Xero and Procore.
_TIMEOUT_HINT = "expected a number of seconds above 0, e.g. 30."
HTTP_TIMEOUT = strict("HTTP_TIMEOUT", env.float, _TIMEOUT_HINT, default=30.0)
if not 0 < HTTP_TIMEOUT < float("inf"):  # also refuses nan
    raise ImproperlyConfigured(f"HTTP_TIMEOUT is not valid: {_TIMEOUT_HINT}")


# The apps' tuning variables. Each app's conf.py (core, sync, webhooks, ...) says what one does
# and holds its default; a variable is read here only when it is given, so the default is stated
# once, there. (.env.example shows the same values; tests/core/test_conf.py compares them.)
_TUNING = {
    "RETENTION_DAYS": (env.int, "expected a whole number of days, e.g. 90."),
    "WEBHOOK_DEBOUNCE_SECONDS": (env.float, "expected a number of seconds, e.g. 5."),
    "PROCORE_FULL_READ_HOURS": (env.float, "expected a number of hours, e.g. 24."),
    "SYNC_UNANSWERED_SETTLE_SECONDS": (env.float, "expected a number of seconds, e.g. 60."),
}
for _name, (_read, _hint) in _TUNING.items():
    if _name in os.environ:
        globals()[_name] = strict(_name, _read, _hint)
if globals().get("RETENTION_DAYS", 1) < 1:
    raise ImproperlyConfigured("RETENTION_DAYS is not valid: expected a whole number of days, e.g. 90.")

# "text" (readable) or "json" (one JSON object a line, for a log collector); both carry the sync
# run's and the payment's id when a line is about one (syncapp.core.logcontext).
LOG_FORMAT = env.str("LOG_FORMAT", default="text").strip().lower()
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT is not valid: expected text or json.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "syncapp.core.logcontext.ContextFilter"},
        "refusal": {"()": "syncapp.core.logcontext.RefusalWithoutTraceback"},
    },
    "formatters": {
        "text": {"()": "syncapp.core.logcontext.TextFormatter"},
        "json": {"()": "syncapp.core.logcontext.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own console handler (DEBUG) would print each django.* line a second time.
        "django": {"handlers": []},
        "django.request": {"filters": ["refusal"]},  # a 403 or 404: one line, no traceback
        # runserver's access line would repeat django.request's line for every 4xx.
        "django.server": {"level": "ERROR", "propagate": True},
        "httpx": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # one line per lockout, not three per typo
        "urllib3": {"level": "WARNING"},
    },
}
