"""Packaging on a fresh machine (issue 10): the build says in one line what is missing, and
a built package carries the front end so that installing it needs no Node.js."""

import pytest

import build_frontend
from tests.fixtures.paths import REPO_ROOT


def test_a_source_build_without_npm_stops_with_one_line_saying_what_to_install(monkeypatch):
    monkeypatch.setattr(build_frontend.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit) as stopped:
        build_frontend.build("wheel", "editable", path="js")
    message = str(stopped.value)
    assert "\n" not in message
    assert "needs Node.js 20 or newer and npm on the PATH" in message


def test_the_sdist_and_wheel_carry_the_built_front_end_and_skip_the_js_build_when_it_is_there():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]
    bundle = "dezero_widget/static/widget.js"
    assert "dezero_widget/static/*" in config["targets"]["sdist"]["artifacts"]
    assert "dezero_widget/static/*" in config["targets"]["wheel"]["artifacts"]
    assert config["hooks"]["jupyter-builder"]["skip-if-exists"] == [bundle]
    assert config["hooks"]["jupyter-builder"]["build-function"] == "build_frontend.build"
