"""EMAIL_URL as .env.example documents it: the console in the demo, the SMTP alternative as written
there, and a URL that is neither stops the start with one line naming the variable (never its
password). Loaded in a fresh interpreter from a filled-in copy of .env.example, as deployed."""

from __future__ import annotations

import re

from tests.test_env_example import ROOT, env_text, filled, load, loaded


def smtp_alternative() -> str:
    return re.search(r"^# EMAIL_URL=(smtp\S+)$", (ROOT / ".env.example").read_text(), re.M)[1]


def test_the_example_prints_mails_to_the_console(tmp_path):
    s = loaded(tmp_path, env_text(filled()))["settings"]
    assert s["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert s["DEFAULT_FROM_EMAIL"] == "Xero-Procore sync <sync@localhost>"
    assert s["EMAIL_TIMEOUT"] == 10.0


def test_the_smtp_alternative_in_the_example_reads_as_smtp_with_starttls(tmp_path):
    s = loaded(tmp_path, env_text(filled(EMAIL_URL=smtp_alternative())))["settings"]
    assert s["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (s["EMAIL_HOST"], s["EMAIL_PORT"]) == ("smtp.example.com", 587)
    assert (s["EMAIL_HOST_USER"], s["EMAIL_HOST_PASSWORD"]) == ("alerts@example.com", "app-password")
    assert s["EMAIL_USE_TLS"] is True


def test_an_email_url_of_unknown_kind_stops_the_start_naming_the_variable_not_the_password(tmp_path):
    result = load(tmp_path, env_text(filled(EMAIL_URL="https://alerts:s3cret-pw@smtp.example.com")))
    assert result.returncode != 0
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("django.core.exceptions.ImproperlyConfigured: EMAIL_URL is not valid: expected a URL")
    assert "s3cret-pw" not in result.stderr
