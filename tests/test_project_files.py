"""The files a fresh checkout relies on say what they must (Docker is not available to run them)."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_docker_compose_runs_postgres_web_and_worker_from_env():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "web", "worker"}
    assert services["db"]["image"].startswith("postgres:")
    assert "gunicorn syncapp.wsgi:application" in services["web"]["command"]
    assert services["worker"]["command"] == "python manage.py qcluster"
    for name in ("web", "worker"):
        assert services[name]["env_file"] == ".env"
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://")
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"
    assert (ROOT / "Dockerfile").exists()


def test_every_setting_read_from_the_environment_is_documented_in_env_example():
    settings_source = (ROOT / "syncapp" / "settings.py").read_text()
    documented = {
        line.split("=", 1)[0].strip("# ").strip()
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line
    }
    import re

    read = set(re.findall(r'env(?:\.\w+)?\("([A-Z_]+)"', settings_source))
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
