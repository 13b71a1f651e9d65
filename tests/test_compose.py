"""docker-compose.yml and the Dockerfile say what a production start needs. Docker is not on this
machine: the files are parsed and checked against the settings, commands and modules they name,
and the web health check script is run against a stand-in server."""

import http.server
import re
import subprocess
import sys
import threading
import tomllib
from importlib.util import find_spec
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands
from django.urls import resolve

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "web", "worker")


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def settings_read() -> set[str]:
    """The variables syncapp/settings.py reads."""
    source = (ROOT / "syncapp" / "settings.py").read_text()
    names = set(re.findall(r'(?:\benv(?:\.\w+)?|\bstrict|\bflag)\(\s*"([A-Z][A-Z0-9_]*)"', source))
    names |= set(re.findall(r'^    "([A-Z_]+_URL)": \(', source, flags=re.M))  # SERVICE_URLS
    assert {"SECRET_KEY", "TOKEN_ENCRYPTION_KEYS", "DATABASE_URL", "SECURE_COOKIES", "SITE_URL"} <= names
    return names


def documented() -> set[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {found[1] for line in lines if (found := re.fullmatch(r"([A-Z][A-Z0-9_]*)=.*", line))}


def argv(command) -> list[str]:
    return command if isinstance(command, list) else command.split()


def test_the_stack_is_postgresql_migrate_web_worker_and_an_optional_redis(services):
    assert set(services) == {"db", "redis", "migrate", "web", "worker"}
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["redis"]["profiles"] == ["redis"]  # started only when asked for
    for name in ("db", *APP_SERVICES):
        assert "profiles" not in services[name], name
    for name in APP_SERVICES:
        assert services[name]["build"] == "." and services[name]["image"] == services["web"]["image"], name


def test_migrations_run_once_before_the_web_server_and_the_worker_start(services):
    assert argv(services["migrate"]["command"]) == ["python", "manage.py", "migrate", "--noinput"]
    assert services["migrate"]["restart"] == "no"  # a one-shot: restarting it would loop
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["db"]["condition"] == "service_healthy", name
        assert "migrate" not in argv(services[name]["command"]), f"{name} must not race the migrate service"


def test_the_web_server_is_gunicorn_serving_the_wsgi_application(services):
    command = argv(services["web"]["command"])
    assert command[:2] == ["gunicorn", "syncapp.wsgi:application"]
    assert command[command.index("--bind") + 1] == "0.0.0.0:8000"
    assert find_spec("syncapp.wsgi") is not None
    assert "application =" in (ROOT / "syncapp" / "wsgi.py").read_text()
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(re.match(r"gunicorn\b", dependency) for dependency in dependencies)
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]  # plain HTTP, for a TLS proxy on the host


def test_every_manage_py_command_and_script_the_stack_runs_exists(services):
    commands = get_commands()
    ran = [argv(services[name]["command"]) for name in APP_SERVICES]
    ran += [services[name]["healthcheck"]["test"][1:] for name in ("web", "worker")]  # after "CMD"
    for command in ran:
        if command[:2] == ["python", "manage.py"]:
            assert command[2] in commands, command
        elif command[0] == "python":
            assert (ROOT / command[1]).is_file(), command
    assert argv(services["worker"]["command"]) == ["python", "manage.py", "qcluster"]


def test_web_and_worker_have_health_checks_that_use_the_app_itself(services):
    web, worker = services["web"]["healthcheck"], services["worker"]["healthcheck"]
    assert web["test"] == ["CMD", "python", "scripts/web_health.py", "8000"]
    assert resolve("/healthz").url_name == "healthz"  # what the script asks for
    assert worker["test"] == ["CMD", "python", "manage.py", "worker_health"]
    # The heartbeat beats every minute and counts as dead after three: the first check waits for it.
    assert worker["start_period"] == "3m"


def test_the_app_services_get_every_setting_from_env_and_only_variables_the_settings_read(services):
    read = settings_read()
    for name in APP_SERVICES:
        service = services[name]
        assert service["env_file"] == ".env", name  # SECRET_KEY, TOKEN_ENCRYPTION_KEYS, SITE_URL, ...
        assert set(service["environment"]) <= read, name
        assert not {"SECRET_KEY", "TOKEN_ENCRYPTION_KEYS"} & set(service["environment"]), "no secret in the file"


def test_the_database_url_points_at_the_db_service_with_its_own_credentials(services):
    db = services["db"]["environment"]
    url = services["web"]["environment"]["DATABASE_URL"]
    found = re.fullmatch(r"postgres://(\w+):\$\{POSTGRES_PASSWORD[^}]*\}@db:5432/(\w+)", url)
    assert found, url
    assert (found[1], found[2]) == (db["POSTGRES_USER"], db["POSTGRES_DB"])
    assert db["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")  # refuses to start without it
    assert services["worker"]["environment"] == services["migrate"]["environment"] == services["web"]["environment"]


def test_every_variable_the_compose_file_interpolates_is_in_env_example():
    interpolated = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (ROOT / "docker-compose.yml").read_text()))
    assert interpolated == {"POSTGRES_PASSWORD"}
    assert interpolated <= documented()


def test_redis_is_used_only_when_its_profile_is_on(services):
    assert "Q_REDIS_URL" in documented() and "Q_REDIS_URL" in settings_read()
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy", "required": False}, name


def test_the_image_installs_the_project_collects_static_files_and_runs_unprivileged():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.1[1-9]", dockerfile, re.M)  # python runs the health checks
    assert "pip install --no-cache-dir ." in dockerfile
    assert "manage.py collectstatic --noinput" in dockerfile
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ".env" in ignored and "!.env.example" in ignored  # no secret baked into the image
    assert ".venv" in ignored and "*.sqlite3" in ignored


# --- the web health check script -------------------------------------------------------------------


class _StandIn(http.server.BaseHTTPRequestHandler):
    status = 200
    seen: list[tuple[str, str]] = []

    def do_GET(self):
        self.seen.append((self.path, self.headers["Host"]))
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def stand_in():
    _StandIn.seen = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def web_health(port: int, allowed_hosts: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "web_health.py"), str(port)],
        env={"ALLOWED_HOSTS": allowed_hosts},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    "allowed_hosts, host",
    [
        ("sync.example.com,localhost", "sync.example.com"),
        (".example.com", "example.com"),
        ("*", "localhost"),
        ("", "localhost"),
    ],
)
def test_the_web_health_check_asks_healthz_with_a_host_django_accepts(stand_in, allowed_hosts, host):
    _StandIn.status = 200
    result = web_health(stand_in.server_port, allowed_hosts)
    assert result.returncode == 0, result.stdout
    assert _StandIn.seen == [("/healthz", host)]
    assert result.stdout.strip() == "/healthz answered 200 OK"


@pytest.mark.parametrize("status", [503, 301, 400])
def test_the_web_health_check_fails_on_anything_but_200(stand_in, status):
    """503: the database is down; 301: an HTTPS redirect it must not follow; 400: a refused host."""
    _StandIn.status = status
    result = web_health(stand_in.server_port, "sync.example.com")
    assert result.returncode == 1
    assert result.stdout.startswith(f"/healthz answered {status}")


def test_the_web_health_check_fails_when_nothing_listens(stand_in):
    port = stand_in.server_port
    stand_in.shutdown()
    stand_in.server_close()
    result = web_health(port, "sync.example.com")
    assert result.returncode == 1
    assert result.stdout.startswith(f"web not answering on port {port}")
