"""Runs every test suite of the project and ends with one line, `N passed, N failed`.

Suites: the root tests/ (pytest), pylint with pylint_odoo on both addons, and
their Odoo tests in a fresh database: social_crm's installed alone (with its
demo data, without the fake platforms' addon), then social_crm_demo's installed
on top. Run by tools/test.sh with .venv's python,
once the cluster is up and .run/odoo.conf written; settings come from tools/env.sh.
Exits 1 when anything failed.
"""

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUN_DIR = REPO / ".run"
VENV_BIN = Path(sys.executable).parent
ODOO_RESULT = re.compile(rb"odoo\.tests\.result: (\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database")


def banner(title):
    print(f"\n===== {title} =====", flush=True)


def run_pytest():
    """pytest on tests/; counts come from its JUnit XML report."""
    banner("pytest tests/")
    report = RUN_DIR / "pytest.xml"
    report.unlink(missing_ok=True)
    rc = subprocess.call(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests",
            f"--junitxml={report}",
            "-o",
            f"cache_dir={RUN_DIR / 'pytest_cache'}",
        ],
        cwd=REPO,
    )
    passed = failed = 0
    if report.exists():
        root = ET.parse(report).getroot()
        for suite in root.iter("testsuite"):
            tests, failures, errors, skipped = (
                int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped")
            )
            passed += tests - failures - errors - skipped
            failed += failures + errors
    # 5: no tests collected, which is not a failure of any test.
    if rc not in (0, 5) and not failed:
        failed = 1
    return passed, failed


def run_pylint():
    """pylint_odoo on both addons: 1 passed when clean, 1 failed otherwise."""
    banner("pylint social_crm social_crm_demo")
    rc = subprocess.call(
        [str(VENV_BIN / "pylint"), f"--rcfile={REPO / '.pylintrc'}", "social_crm", "social_crm_demo"], cwd=REPO
    )
    if rc:
        return 0, 1
    print("pylint: no messages.")
    return 1, 0


def drop_database(name):
    subprocess.run(
        [
            str(REPO / "tools" / "pg.sh"),
            "psql",
            "-d",
            "postgres",
            "-c",
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        ],
        check=True,
    )
    shutil.rmtree(RUN_DIR / "odoo-data" / "filestore" / name, ignore_errors=True)


def run_odoo_tests():
    """social_crm's tests in a fresh database where it is installed alone,
    then social_crm_demo's once it is installed on top, in the same database."""
    db = os.environ["TEST_DB"]
    drop_database(db)
    (RUN_DIR / "odoo-test.log").unlink(missing_ok=True)
    return [sum(counts) for counts in zip(run_odoo(db, "social_crm"), run_odoo(db, "social_crm_demo"))]


def run_odoo(db, module):
    """Installs ``module`` into ``db`` with its tests enabled.

    Odoo's log is streamed to the console and appended to .run/odoo-test.log;
    its last `odoo.tests.result` line gives the counts. A non-zero exit with
    nothing counted as failed (e.g. the install itself broke) counts as 1 failed.
    """
    log_path = RUN_DIR / "odoo-test.log"
    cmd = [
        sys.executable,
        os.path.join(os.environ["ODOO_SRC"], "odoo-bin"),
        "-c",
        os.environ["ODOO_CONF"],
        "-d",
        db,
        "--http-port",
        os.environ["TEST_HTTP_PORT"],
        "-i",
        module,
        "--test-enable",
        "--test-tags",
        f"/{module}",
        "--stop-after-init",
    ]
    banner(f"Odoo tests of {module} (log: {log_path.relative_to(REPO)})")
    print(" ".join(cmd), flush=True)
    result = None
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for line in proc.stdout:
            sys.stdout.buffer.write(line)
            sys.stdout.buffer.flush()
            log.write(line)
            match = ODOO_RESULT.search(line)
            if match:
                result = [int(group) for group in match.groups()]
        rc = proc.wait()
    passed = failed = 0
    if result:
        failures, errors, total = result
        passed, failed = total - failures - errors, failures + errors
    if rc and not failed:
        print(f"Odoo exited with status {rc} without a failed test: counted as 1 failed.")
        failed = 1
    return passed, failed


def main():
    suites = {"pytest": run_pytest, "pylint": run_pylint, "odoo": run_odoo_tests}
    results = {name: suite() for name, suite in suites.items()}
    banner("Summary")
    for name, (passed, failed) in results.items():
        print(f"{name}: {passed} passed, {failed} failed")
    passed = sum(p for p, _ in results.values())
    failed = sum(f for _, f in results.values())
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
