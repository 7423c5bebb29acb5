"""Item 1: settings from the environment. Each check runs in a fresh process, as a deployment
would, with exactly the variables the test gives it."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"]


def _production_env(**overrides) -> dict:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "resolution_center.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "resolutions.example.com",
        "DATABASE_URL": "postgres://app:secret@127.0.0.1:5432/resolution_center",
    }
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_development_needs_no_environment_variables():
    """With nothing set at all, the development settings load and pass Django's checks."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    done = _manage(env, "check")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "System check identified no issues" in done.stdout


@pytest.mark.parametrize("missing", REQUIRED)
def test_production_refuses_to_start_without_required_variable(missing):
    """Production settings without SECRET_KEY, ALLOWED_HOSTS or DATABASE_URL stop at once with a
    message naming the variable, instead of starting with a default."""
    done = _manage(_production_env(**{missing: None}), "check")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert f"{missing} is not set" in done.stderr


def test_production_refuses_blank_required_variable():
    """An empty value counts as missing (a common mistake in env files)."""
    done = _manage(_production_env(SECRET_KEY="  "), "check")
    assert done.returncode != 0
    assert "SECRET_KEY is not set" in done.stderr


def test_production_passes_check_deploy_at_warning_level():
    """With the three variables set, `manage.py check --deploy --fail-level WARNING` passes."""
    done = _manage(_production_env(), "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "System check identified no issues (0 silenced)" in done.stdout


def test_production_check_deploy_catches_a_weak_secret():
    """The deploy check is real: a short secret key fails it."""
    done = _manage(_production_env(SECRET_KEY="short"), "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode != 0
    assert "security.W009" in done.stdout + done.stderr


def _variables_read_by_the_code() -> set[str]:
    sources = [
        *sorted((ROOT / "resolution_center" / "settings").glob("*.py")),
        ROOT / "resolution_center" / "storage.py",
        ROOT / "gunicorn.conf.py",
    ]
    pattern = re.compile(
        r"""(?:os\.environ(?:\.get)?|environ\.get|environ\[|env_bool|env_list|required)\(?\s*["']([A-Z][A-Z0-9_]+)["']"""
    )
    names = set()
    for source in sources:
        names.update(pattern.findall(source.read_text()))
    return names


def test_env_example_lists_every_variable_with_a_meaning():
    """.env.example names every environment variable the settings, the storage helper and gunicorn
    read, each with a comment line saying what it means."""
    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    read = _variables_read_by_the_code()
    assert len(read) > 20
    assert read - listed == set()
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^#?\s*[A-Z][A-Z0-9_]+=", line):
            previous = lines[index - 1] if index else ""
            assert previous.startswith("# ") and not re.match(r"^#\s*[A-Z][A-Z0-9_]+=", previous), (
                f"{line!r} has no one-line meaning above it"
            )


def test_env_example_reads_the_same_in_a_shell_as_in_systemd(tmp_path):
    """The deployment guide loads the environment file with `set -a; . env` for manage.py and with
    systemd's EnvironmentFile= for the services: a value with spaces and <> must survive both."""
    script = 'set -a; . ./.env.example; set +a; printf "%s" "$DEFAULT_FROM_EMAIL"'
    done = subprocess.run(["sh", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Resolution Center <resolutions@example.com>"
