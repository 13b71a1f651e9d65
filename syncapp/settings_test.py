"""Settings for the test suite: the sandbox on, throwaway secrets generated per run."""

import base64
import os
import secrets

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("TOKEN_ENCRYPTION_KEYS", base64.urlsafe_b64encode(os.urandom(32)).decode())
os.environ["SANDBOX_ENABLED"] = "true"
os.environ.setdefault("SECURE_COOKIES", "false")
os.environ.setdefault("XERO_CLIENT_ID", "test-xero-client")
os.environ.setdefault("XERO_CLIENT_SECRET", secrets.token_urlsafe(24))
os.environ.setdefault("PROCORE_CLIENT_ID", "test-procore-client")
os.environ.setdefault("PROCORE_CLIENT_SECRET", secrets.token_urlsafe(24))
# The sandbox carries out a create before it answers (or within its hang, which a test sets with
# its own value): no create of it lands later, so nothing waits for one.
os.environ.setdefault("SYNC_UNANSWERED_SETTLE_SECONDS", "0")

from syncapp.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
Q_CLUSTER = {**Q_CLUSTER, "sync": False}  # noqa: F405
WHITENOISE_AUTOREFRESH = True  # serve from the finders; no collectstatic before tests
WHITENOISE_USE_FINDERS = True
