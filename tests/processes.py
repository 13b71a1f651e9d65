"""What a process a test starts (`manage.py ...`, a worker) needs to reach this test's database."""

from urllib.parse import quote

from django.db import connection


def database_url() -> str:
    """The test database this process uses, as DATABASE_URL for the processes it starts."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or "5432"
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}"
