"""`cp .env.example .env`, then filling in the blanks, is how people deploy: the settings must then
read what the example means, variable by variable, with no comment leaking into a value.

Each case loads the settings in a fresh interpreter from a copy of the code with its own .env
beside it (settings.py reads BASE_DIR/.env), so nothing of the test process's environment leaks in.
"""

import datetime as dt
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = re.compile(r"([A-Z][A-Z0-9_]*)=(.*)")

# Prints what the settings made of the .env: the raw variables, and every upper-case setting.
LOAD = """
import json, os, sys
from django.conf import settings
names = json.loads(sys.argv[1])
values = {name: getattr(settings, name) for name in dir(settings) if name.isupper()}
print(json.dumps({"environ": {name: os.environ.get(name) for name in names}, "settings": values}, default=str))
"""


def example() -> dict[str, str]:
    """The variables .env.example sets (not the commented-out alternatives), in order."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    return dict(found.groups() for line in lines if (found := ASSIGNMENT.fullmatch(line)))


def filled(**changes: str) -> dict[str, str]:
    """The example with its blanks filled as a deployer fills them, then `changes`."""
    variables = example()
    blanks = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "XERO_CLIENT_ID": "0A1B2C3D4E5F60718293A4B5C6D7E8F9",
        "XERO_CLIENT_SECRET": secrets.token_urlsafe(36),
        "PROCORE_CLIENT_ID": secrets.token_hex(32),
        "PROCORE_CLIENT_SECRET": secrets.token_hex(32),
        "POSTGRES_PASSWORD": secrets.token_hex(24),
        "XERO_WEBHOOK_KEY": secrets.token_urlsafe(64),
    }
    variables.update({name: value for name, value in blanks.items() if name in variables})
    variables.update(changes)
    return variables


def env_text(variables: dict[str, str]) -> str:
    """.env.example with each variable's line given the value in `variables` (comments kept)."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    out = []
    for line in lines:
        found = ASSIGNMENT.fullmatch(line)
        out.append(f"{found[1]}={variables[found[1]]}" if found else line)
    return "\n".join(out) + "\n"


def load(tmp_path: Path, dotenv: str, **environment: str) -> subprocess.CompletedProcess:
    shutil.copytree(ROOT / "syncapp", tmp_path / "syncapp", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / ".env").write_text(dotenv)
    names = [found[1] for line in dotenv.splitlines() if (found := ASSIGNMENT.fullmatch(line))]
    # Only what finds programs: everything else comes from the .env, as in a fresh deployment.
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    base |= {"DJANGO_SETTINGS_MODULE": "syncapp.settings", **environment}
    return subprocess.run(
        [sys.executable, "-c", LOAD, json.dumps(names)], cwd=tmp_path, env=base, capture_output=True, text=True
    )


def loaded(tmp_path: Path, dotenv: str, **environment: str) -> dict:
    result = load(tmp_path, dotenv, **environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def as_list(value: str) -> list[str]:
    return [item for item in value.split(",") if item]


def as_bool(value: str) -> bool:
    return {"true": True, "false": False}[value]


def test_every_comment_in_env_example_is_on_its_own_line():
    for number, line in enumerate((ROOT / ".env.example").read_text().splitlines(), start=1):
        assert line == "" or line.startswith("#") or ASSIGNMENT.fullmatch(line), f"line {number}: {line!r}"
        if found := ASSIGNMENT.fullmatch(line):
            assert "#" not in found[2] and found[2] == found[2].strip(), f"line {number}: {line!r}"


def test_the_blank_required_values_stay_blank_in_the_example():
    """A placeholder there would pass a "required" check; a blank one cannot."""
    assert example()["SECRET_KEY"] == ""
    assert example()["TOKEN_ENCRYPTION_KEYS"] == ""


def test_env_example_filled_in_reads_back_every_value_exactly(tmp_path):
    """Derived from .env.example itself: a variable added there is checked here too."""
    variables = filled()
    got = loaded(tmp_path, env_text(variables))
    for name, value in variables.items():
        assert got["environ"][name] == value, name
        assert "#" not in got["environ"][name], name


def test_env_example_filled_in_gives_the_settings_it_means(tmp_path):
    variables = filled()
    s = loaded(tmp_path, env_text(variables))["settings"]
    v = variables

    assert s["SITE_URL"] == "http://127.0.0.1:8000" == v["SITE_URL"]
    assert s["DEBUG"] is False is as_bool(v["DEBUG"])
    assert s["SECRET_KEY"] == v["SECRET_KEY"]
    assert s["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"] == as_list(v["ALLOWED_HOSTS"])
    assert s["CSRF_TRUSTED_ORIGINS"] == []
    assert s["SESSION_COOKIE_SECURE"] is True is as_bool(v["SECURE_COOKIES"])
    assert s["CSRF_COOKIE_SECURE"] is True
    assert s["TIME_ZONE"] == v["TIME_ZONE"]
    assert s["LOGGING"]["root"]["level"] == v["LOG_LEVEL"]
    assert s["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert s["DATABASES"]["default"]["NAME"] == "db.sqlite3"
    assert s["TOKEN_ENCRYPTION_KEYS"] == [v["TOKEN_ENCRYPTION_KEYS"]]
    assert s["Q_CLUSTER"]["workers"] == int(v["Q_WORKERS"])
    assert s["Q_CLUSTER"]["timeout"] == int(v["Q_TIMEOUT"])
    assert s["Q_CLUSTER"]["orm"] == "default" and "redis" not in s["Q_CLUSTER"]  # Q_REDIS_URL blank
    assert s["SANDBOX_ENABLED"] is False is as_bool(v["SANDBOX_ENABLED"])
    for name in ("XERO_CLIENT_ID", "XERO_CLIENT_SECRET", "PROCORE_CLIENT_ID", "PROCORE_CLIENT_SECRET"):
        assert s[name] == v[name]
    assert s["XERO_SCOPES"] == as_list(v["XERO_SCOPES"])
    for name in s["SERVICE_URLS"]:
        assert s[name] == v[name] and s[name].startswith("https://"), name
    assert s["HTTP_TIMEOUT"] == float(v["HTTP_TIMEOUT"])
    assert s["PROCORE_FULL_READ_HOURS"] == float(v["PROCORE_FULL_READ_HOURS"])
    assert s["SYNC_UNANSWERED_SETTLE_SECONDS"] == float(v["SYNC_UNANSWERED_SETTLE_SECONDS"])
    assert s["SECURE_SSL_REDIRECT"] is True is as_bool(v["SECURE_SSL_REDIRECT"])
    assert s["SECURE_HSTS_SECONDS"] == int(v["SECURE_HSTS_SECONDS"])
    assert "SECURE_PROXY_SSL_HEADER" not in s or s["SECURE_PROXY_SSL_HEADER"] is None  # blank: Django's default
    assert s["PROXY_COUNT"] == int(v["PROXY_COUNT"])
    assert s["AXES_FAILURE_LIMIT"] == int(v["LOGIN_FAILURE_LIMIT"])
    assert s["AXES_COOLOFF_TIME"] == str(dt.timedelta(minutes=int(v["LOGIN_COOLOFF_MINUTES"])))
    assert v.get("EMAIL_URL", "consolemail://") == "consolemail://"
    assert s["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


# The setting each variable of .env.example makes where none bears its name (checked just above).
SETTING_OF = {
    "SECURE_COOKIES": "SESSION_COOKIE_SECURE",
    "LOG_LEVEL": "LOGGING",
    "DATABASE_URL": "DATABASES",
    "CONN_MAX_AGE": "DATABASES",
    "Q_WORKERS": "Q_CLUSTER",
    "Q_TIMEOUT": "Q_CLUSTER",
    "Q_REDIS_URL": "Q_CLUSTER",
    "LOGIN_FAILURE_LIMIT": "AXES_FAILURE_LIMIT",
    "LOGIN_COOLOFF_MINUTES": "AXES_COOLOFF_TIME",
    "EMAIL_URL": "EMAIL_BACKEND",
    "POSTGRES_PASSWORD": None,  # docker-compose.yml's, not the app's (tests/test_compose.py)
}


def test_every_variable_of_the_example_is_checked_against_a_setting(tmp_path):
    s = loaded(tmp_path, env_text(filled()))["settings"]
    unchecked = [name for name in example() if name not in s and name not in SETTING_OF]
    assert not unchecked, "add what they should read as to the test above and to SETTING_OF"


def test_a_variable_named_like_its_setting_reads_as_the_example_says(tmp_path):
    """For variables added to .env.example later (and every one above): where a setting of the
    same name exists, it holds the example's value in that setting's type."""
    variables = filled()
    s = loaded(tmp_path, env_text(variables))["settings"]
    checked = 0
    for name, value in variables.items():
        if name not in s or not value:
            continue
        setting = s[name]
        if isinstance(setting, bool):
            expected = as_bool(value.lower())
        elif isinstance(setting, int | float):
            expected = type(setting)(value)
        elif isinstance(setting, list):
            expected = as_list(value)
        else:
            expected = value
        assert setting == expected, name
        checked += 1
    assert checked >= 20


def test_the_commented_postgresql_alternative_reads_with_its_connection_age(tmp_path):
    alternative = re.search(r"^# DATABASE_URL=(postgres://\S+)$", (ROOT / ".env.example").read_text(), re.M)
    variables = filled(DATABASE_URL=alternative[1])
    database = loaded(tmp_path, env_text(variables))["settings"]["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == ("127.0.0.1", 5432, "syncapp")
    assert database["CONN_MAX_AGE"] == int(variables["CONN_MAX_AGE"])


def test_the_demo_env_that_make_writes_loads(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "write_env.py"), str(tmp_path / "demo.env")], check=True)
    s = loaded(tmp_path, (tmp_path / "demo.env").read_text())["settings"]
    assert s["DEBUG"] is True and s["SANDBOX_ENABLED"] is True and s["SESSION_COOKIE_SECURE"] is False
    assert len(s["SECRET_KEY"]) >= 50


def _refusal(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "value, message",
    [
        ("", "SECRET_KEY is not set"),
        ("   ", "SECRET_KEY is not set"),
        ("changeme", "SECRET_KEY is too short for production"),
        ("x" * 60, "SECRET_KEY is too short for production"),
        ("required; `make .env` generates one (a note, not a key at all)", "SECRET_KEY is not a random key"),
        ("django-insecure-" + secrets.token_urlsafe(50), "SECRET_KEY is not a random key"),
    ],
    # Fixed ids: a random key in the id would make each pytest-xdist worker collect another test.
    ids=["empty", "spaces", "short-word", "short-repeat", "a-note", "django-insecure"],
)
def test_production_refuses_a_blank_whitespace_short_or_placeholder_secret_key(tmp_path, value, message):
    result = load(tmp_path, env_text(filled(SECRET_KEY=value)))
    line = _refusal(result)
    assert f"ImproperlyConfigured: {message}" in line
    if message != "SECRET_KEY is not set":
        assert "secrets.token_urlsafe(50)" in line  # says how to make a good one


def test_an_env_written_with_a_comment_after_a_value_is_refused_naming_the_line(tmp_path):
    """How a .env copied from the old example looked: the start stops instead of running with
    SECURE_COOKIES read as false and SITE_URL carrying the note."""
    dotenv = env_text(filled()).replace("SECURE_COOKIES=true\n", "SECURE_COOKIES=true   # HTTPS only\n")
    line = _refusal(load(tmp_path, dotenv))
    number = dotenv.splitlines().index("SECURE_COOKIES=true   # HTTPS only") + 1
    assert f".env has a comment after a value (SECURE_COOKIES on line {number})" in line
    assert "put the comment on a line of its own" in line


def test_a_quoted_value_may_hold_a_hash(tmp_path):
    key = secrets.token_urlsafe(40) + " #" + secrets.token_urlsafe(20)
    s = loaded(tmp_path, env_text(filled(DEBUG="true", SECRET_KEY=f'"{key}"')))["settings"]
    assert s["SECRET_KEY"] == key


@pytest.mark.parametrize("variable", ["SECURE_COOKIES", "SECURE_SSL_REDIRECT", "DEBUG", "SANDBOX_ENABLED"])
def test_a_true_false_variable_that_is_neither_stops_the_start(tmp_path, variable):
    line = _refusal(load(tmp_path, env_text(filled(**{variable: "ture"}))))
    assert line.endswith(f"ImproperlyConfigured: {variable} is not valid: expected true or false.")


def test_a_blank_secure_cookies_means_its_default(tmp_path):
    s = loaded(tmp_path, env_text(filled(SECURE_COOKIES="", SECURE_SSL_REDIRECT="")))["settings"]
    assert s["SESSION_COOKIE_SECURE"] is True and s["SECURE_SSL_REDIRECT"] is True  # not DEBUG


@pytest.mark.parametrize("value", ["   ", ","])
def test_blank_token_encryption_keys_are_not_set(tmp_path, value):
    line = _refusal(load(tmp_path, env_text(filled(TOKEN_ENCRYPTION_KEYS=value))))
    assert line.endswith("TOKEN_ENCRYPTION_KEYS is not set: run `make .env` or set it.")


def test_token_encryption_keys_may_have_spaces_after_the_commas(tmp_path):
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    s = loaded(tmp_path, env_text(filled(TOKEN_ENCRYPTION_KEYS=f"{new}, {old}")))["settings"]
    assert s["TOKEN_ENCRYPTION_KEYS"] == [new, old]


def test_a_token_encryption_key_that_is_not_one_is_named_with_how_to_make_one(tmp_path):
    good = Fernet.generate_key().decode()
    line = _refusal(load(tmp_path, env_text(filled(TOKEN_ENCRYPTION_KEYS=f"{good},{good[:-4]}"))))
    assert "TOKEN_ENCRYPTION_KEYS is not valid: key 2 of 2 is not a Fernet key" in line
    assert "Fernet.generate_key()" in line
    assert good[:-4] not in line
