"""`make test` never silently skips the browser tests: Chromium is installed where it can be
(root, apt-get), otherwise the run fails with the one command to type."""

import os
import subprocess
from pathlib import Path

import pytest

from tests.browser.conftest import require_chromium

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "ensure_chromium.sh"


def run_script(tmp_path, **env):
    return subprocess.run(
        [str(SCRIPT)],
        env={**os.environ, "CHROMIUM": str(tmp_path / "no-such" / "chromium"), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def fake_apt_get(tmp_path, *, works_after_update: bool) -> Path:
    """An apt-get stand-in: `install` fails until `update` ran (stale lists), then puts a file
    where CHROMIUM points; every call is logged."""
    chromium = tmp_path / "no-such" / "chromium"
    log = tmp_path / "apt.log"
    script = tmp_path / "apt-get"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {log}\n'
        f'if [ "$1" = update ]; then touch {tmp_path}/updated; exit 0; fi\n'
        f'if [ "$1" = install ] && [ -e {tmp_path}/updated ] && [ {int(works_after_update)} = 1 ]; then\n'
        f"  mkdir -p {chromium.parent} && printf '#!/bin/sh\\n' > {chromium} && chmod +x {chromium}; exit 0\n"
        "fi\n"
        "exit 100\n"
    )
    script.chmod(0o755)
    return script


def test_browser_fixture_without_chromium_fails_with_the_install_command():
    """A missing Chromium is a failure naming the command to run, not a skip."""
    with pytest.raises(pytest.fail.Exception) as failure:
        require_chromium("/no/such/chromium")

    assert "sudo apt-get update && sudo apt-get install -y chromium" in str(failure.value)


def test_browser_conftest_without_chromium_adds_no_skip_marker():
    """The old collection hook that marked every browser test "skip" is gone."""
    import tests.browser.conftest as browser_conftest

    assert not hasattr(browser_conftest, "pytest_collection_modifyitems")


def test_ensure_chromium_when_apt_get_cannot_install_fails_with_the_command(tmp_path):
    """Nowhere to install from: exit status 1 and the one command on standard error."""
    result = run_script(tmp_path, APT_GET=str(fake_apt_get(tmp_path, works_after_update=False)))

    assert result.returncode == 1
    assert "sudo apt-get update && sudo apt-get install -y chromium" in result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="installing with apt-get needs root")
def test_ensure_chromium_as_root_with_stale_lists_updates_then_installs(tmp_path):
    """As root: the first install fails on stale package lists, so the lists are updated and the
    install retried; the script then succeeds."""
    result = run_script(tmp_path, APT_GET=str(fake_apt_get(tmp_path, works_after_update=True)))

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "apt.log").read_text().splitlines() == ["install -y chromium", "update", "install -y chromium"]
    assert (tmp_path / "no-such" / "chromium").exists()


def test_ensure_chromium_when_present_does_nothing(tmp_path):
    """Chromium already there: success without calling apt-get."""
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)

    result = run_script(tmp_path, CHROMIUM=str(chromium), APT_GET=str(tmp_path / "missing-apt-get"))

    assert result.returncode == 0
    assert not (tmp_path / "apt.log").exists()


def test_make_test_runs_ensure_chromium_before_pytest_and_ci_runs_lint():
    """`make test` calls the script before the suite; CI uses the same script and runs `make lint`."""
    dry_run = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    lines = dry_run.splitlines()
    ensure = next(i for i, line in enumerate(lines) if "scripts/ensure_chromium.sh" in line)
    pytest_line = next(i for i, line in enumerate(lines) if "bin/pytest" in line)
    assert ensure < pytest_line

    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/ensure_chromium.sh" in ci
    assert "make lint" in ci
    assert "apt-get install" not in ci
