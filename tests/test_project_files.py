"""The files a fresh checkout relies on say what they must (docker-compose.yml: tests/test_compose.py)."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_read_from_the_environment_is_documented_in_env_example():
    settings_source = (ROOT / "syncapp" / "settings.py").read_text()
    documented = {
        line.split("=", 1)[0].strip("# ").strip()
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line
    }
    import re

    read = set(re.findall(r'env(?:\.\w+)?\("([A-Z_]+)"', settings_source))
    read |= set(re.findall(r'(?:strict|flag)\(\s*"([A-Z_]+)"', settings_source))
    read |= set(re.findall(r'^    "([A-Z_]+_URL)": \(', settings_source, flags=re.M))
    assert read, "the settings read no variables?"
    assert read <= documented, f"undocumented: {sorted(read - documented)}"


def test_ci_runs_the_readme_test_command_on_postgresql():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
    assert "postgres://" in ci
    assert "make test" in (ROOT / "README.md").read_text()


def test_make_run_gives_the_worker_the_same_site_url_as_the_web_server():
    """The worker reaches the sandbox at SITE_URL: with another PORT it must not keep the default."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "export SITE_URL=http://$(HOST):$(PORT)" in recipe
    assert recipe.index("export SITE_URL") < recipe.index("qcluster") < recipe.index("runserver")


def _manage(*args: str, tmp_path: Path, with_assets: bool = False, **variables: str):
    """manage.py as a fresh clone runs it: no .env, no secrets in the environment (unless given).
    with_assets: also the templates and static files (for checks that look at them)."""
    import os
    import shutil
    import subprocess
    import sys

    shutil.copytree(ROOT / "syncapp", tmp_path / "syncapp", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    for folder in ("templates", "static") if with_assets else ():
        shutil.copytree(ROOT / folder, tmp_path / folder)
    # Only what finds programs: the test settings put their own variables into os.environ.
    environment = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    environment.update(variables)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=tmp_path, env=environment, capture_output=True, text=True
    )


def test_every_model_change_has_its_migration_on_a_fresh_clone(tmp_path):
    result = _manage("makemigrations", "--check", "--dry-run", tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


def test_a_command_that_uses_the_secrets_refuses_to_start_without_them(tmp_path):
    result = _manage("migrate", tmp_path=tmp_path)
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        "Configuration error: SECRET_KEY is not set: run `make .env` or set it in the environment."
    ]


def _good_secrets() -> dict[str, str]:
    import secrets

    from cryptography.fernet import Fernet

    return {"SECRET_KEY": secrets.token_urlsafe(50), "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode()}


TIMEOUT_HINT = "expected a number of seconds above 0, e.g. 30."


@pytest.mark.parametrize(
    "variable, value, line",
    [
        ("HTTP_TIMEOUT", "thirty", "HTTP_TIMEOUT is not valid: expected a number of seconds above 0, e.g. 30."),
        ("HTTP_TIMEOUT", "0", "HTTP_TIMEOUT is not valid: expected a number of seconds above 0, e.g. 30."),
        ("SECRET_KEY", "changeme", "SECRET_KEY is too short for production: use at least 50 random characters"),
        ("TOKEN_ENCRYPTION_KEYS", "not-a-key", "TOKEN_ENCRYPTION_KEYS is not valid: key 1 of 1 is not a Fernet key"),
        ("DATABASE_URL", "postgress//db-host/app", "DATABASE_URL is not valid: expected a URL such as postgres://"),
        ("DATABASE_URL", "postgres://app:hunter2@db:port/app", "DATABASE_URL is not valid: expected a URL such as"),
    ],
)
def test_a_bad_setting_stops_the_start_with_one_line_that_names_it(tmp_path, variable, value, line):
    result = _manage("check", tmp_path=tmp_path, **{**_good_secrets(), variable: value})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"Configuration error: {line}")
    assert "hunter2" not in result.stderr  # a password in a bad URL is never echoed


def test_the_wsgi_entry_point_stops_with_the_same_one_line(tmp_path):
    """What gunicorn imports: a bad setting there reads as it does for manage.py."""
    import os
    import subprocess
    import sys

    assert _manage("--version", tmp_path=tmp_path, **_good_secrets()).returncode == 0  # copies the code
    environment = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    environment.update(_good_secrets(), HTTP_TIMEOUT="thirty", DATABASE_URL=f"sqlite:///{tmp_path / 'db'}")
    result = subprocess.run(
        [sys.executable, "-c", "import syncapp.wsgi"], cwd=tmp_path, env=environment, capture_output=True, text=True
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip() == "Configuration error: HTTP_TIMEOUT is not valid: " + TIMEOUT_HINT


def test_a_second_rotation_key_that_is_not_a_fernet_key_is_named_by_its_place(tmp_path):
    keys = f"{_good_secrets()['TOKEN_ENCRYPTION_KEYS']},old-key-typo"
    result = _manage("check", tmp_path=tmp_path, **{**_good_secrets(), "TOKEN_ENCRYPTION_KEYS": keys})
    assert "key 2 of 2 is not a Fernet key" in result.stderr
    assert "old-key-typo" not in result.stderr


def test_good_settings_start(tmp_path):
    result = _manage("check", tmp_path=tmp_path, **_good_secrets(), HTTP_TIMEOUT="12.5")
    assert result.returncode == 0, result.stderr
    assert "Configuration error" not in result.stderr


def test_a_short_secret_key_is_accepted_for_the_local_demo_with_debug_on(tmp_path):
    result = _manage("check", tmp_path=tmp_path, **{**_good_secrets(), "SECRET_KEY": "demo", "DEBUG": "true"})
    assert result.returncode == 0, result.stderr


def test_the_deploy_check_is_clean_with_production_settings(tmp_path):
    """HTTPS redirect, HSTS, secure cookies, a long secret: what Django's deploy check asks for is
    what production gets by default, with nothing silenced."""
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        tmp_path=tmp_path,
        with_assets=True,
        **_good_secrets(),
        DEBUG="false",
        ALLOWED_HOSTS="sync.example.com",
        SITE_URL="https://sync.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
