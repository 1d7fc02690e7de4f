"""The whole tree is ruff-clean: ``ruff check .`` and ``ruff format --check .`` from the repo
root, with the ruff of this environment (pinned in the ``test`` extra), configured by
pyproject.toml's ``[tool.ruff]``."""

import subprocess
import sys

import pytest

from tests.fixtures.paths import REPO_ROOT


@pytest.mark.parametrize("arguments", [["check", "."], ["format", "--check", "."]], ids=["check", "format"])
def test_ruff_passes(arguments):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *arguments], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        pytest.fail(f"ruff {' '.join(arguments)} failed:\n{result.stdout}{result.stderr}", pytrace=False)
