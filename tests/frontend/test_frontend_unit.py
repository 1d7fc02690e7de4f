"""Runs the front end's own checks (vitest unit tests, the TypeScript type check and Biome's
lint + format check) from pytest, so the README's single test command covers js/ too.
`pip install -e .` installed js/node_modules."""

import re
import shutil
import subprocess

import pytest

from tests.fixtures.paths import JS


def run_npm(script: str) -> subprocess.CompletedProcess:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not installed; the front end cannot be tested (install Node.js 20+)")
    if not (JS / "node_modules").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS, check=True)
    return subprocess.run(
        [npm, "run", "--silent", script], cwd=JS, capture_output=True, text=True, timeout=300
    )


def test_vitest_suite_passes():
    result = run_npm("test")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    match = re.search(r"Tests\s+(\d+) passed", re.sub(r"\x1b\[[0-9;]*m", "", output))
    assert match and int(match.group(1)) >= 60, output


def test_typescript_type_check_passes():
    result = run_npm("typecheck")
    assert result.returncode == 0, result.stdout + result.stderr


def test_biome_lint_and_format_pass():
    result = run_npm("lint")
    assert result.returncode == 0, result.stdout + result.stderr
