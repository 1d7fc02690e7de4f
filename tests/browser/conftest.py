"""Pytest fixtures for the real-browser tests in this folder: a JupyterLab server and
headless Chromium.

* ``jupyter`` (session): ``jupyter lab`` on 127.0.0.1, a free port, a random token and
  isolated JUPYTER_* / IPython dirs, so nothing is read from or written to $HOME.
  It also serves Notebook 7 (``/notebooks/...``). Stopped at teardown.
  ``jupyter.open_notebook(page, name, cells)`` writes a notebook and opens it, kernel idle.
* ``chromium`` (session): Debian's /usr/bin/chromium driven by Playwright. A missing
  binary is a failure, not a skip: CI installs it.
* ``notebook_page`` (function): a fresh page, with the kernels of earlier tests shut down;
  fails the test on page errors other than known unrelated ones.
* ``save_screenshot`` (function): ``save_screenshot(page, name)`` writes test-artifacts/name.png.
* ``run_cell`` (function): ``run_cell(page, index)`` runs one cell the way a person does.

Every test using ``chromium`` gets the ``browser`` marker (registered in pyproject.toml).

The recipe (and why each option is there): /work/shared/notes/browser-testing.md.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import expect

from tests.fixtures import dom
from tests.fixtures.notebooks import PYTHON3_KERNELSPEC, notebook_of
from tests.fixtures.paths import ARTIFACTS, kernel_pythonpath

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 90.0
KERNEL_IDLE_TIMEOUT = 60.0
POLL_INTERVAL = 0.2

# Settings that keep dialogs and toasts from covering the notebook: a kernel starts
# on open (no "Select Kernel" modal) and no news or update checks.
LAB_OVERRIDES = {
    "@jupyterlab/notebook-extension:tracker": {"autoStartDefaultKernel": True},
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}

# Notebook 7.6 throws these on load, unrelated to any widget (browser-testing.md, pitfall 8).
KNOWN_UNRELATED_PAGE_ERRORS = ("reading 'schema'", "Command 'filebrowser:open-path' not registered")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that drives the browser, so ``-m browser`` selects exactly those."""
    for item in items:
        if "chromium" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _poll(condition, timeout: float, what: str):
    """Call ``condition`` until it returns something truthy; fail with ``what`` on timeout.

    For server-side state (HTTP), which has no DOM condition to wait on."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(POLL_INTERVAL)


@dataclass
class JupyterServer:
    """A running server: its URL, token and notebook directory, and REST helpers."""

    base_url: str
    token: str
    root_dir: Path
    process: subprocess.Popen
    log_path: Path

    def api(self, method: str, path: str):
        request = urllib.request.Request(
            f"{self.base_url}/api/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def lab_settings(self, plugin: str, raw: str | None = None) -> str:
        """A Lab plugin's user settings as JSON text (``raw``); given ``raw``, set them first.
        The server is shared by every browser test: restore what you change."""
        if raw is not None:
            request = urllib.request.Request(
                f"{self.base_url}/lab/api/settings/{plugin}",
                method="PUT",
                data=json.dumps({"raw": raw}).encode(),
                headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
            )
            urllib.request.urlopen(request, timeout=10).close()
        request = urllib.request.Request(
            f"{self.base_url}/lab/api/settings/{plugin}", headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())["raw"]

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def shut_down_kernels(self) -> None:
        """Sessions outlive pages, so a rerun would meet the previous test's kernel."""
        for session in self.api("GET", "sessions"):
            self.api("DELETE", f"sessions/{session['id']}")

    def write_notebook(self, name: str, sources: list[str]) -> str:
        notebook = notebook_of(sources)
        notebook.metadata["kernelspec"] = dict(PYTHON3_KERNELSPEC)
        nbformat.write(notebook, self.root_dir / name)
        return name

    def open_notebook(
        self, page, name: str, cells: list[str], ui: str = "lab", timeout_ms: int = 60_000
    ) -> str:
        """Write ``cells`` as notebook ``name``, open it on ``page`` in ``ui`` and wait until
        every cell is drawn and its kernel is idle; returns the notebook's name."""
        notebook = self.write_notebook(name, cells)
        page.goto(self.url(ui, notebook))
        expect(dom.cells(page)).to_have_count(len(cells), timeout=timeout_ms)
        self.wait_for_idle_kernel(notebook)
        return notebook

    def open_example(self, page, path: Path) -> str:
        """Copy an example notebook into the server's folder, open it in JupyterLab, wait for its
        kernel to be idle (and the page to say so), and choose Run > Run All."""
        shutil.copy(path, self.root_dir / path.name)
        page.goto(self.url("lab", path.name))
        expect(dom.cells(page).first).to_be_visible(timeout=60_000)
        self.wait_for_idle_kernel(path.name)
        expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(
            1, timeout=60_000
        )
        return path.name

    def run_all(self, page) -> None:
        """Run > Run All, as a learner does."""
        page.locator("div.lm-MenuBar-itemLabel:text-is('Run')").click()
        page.locator("li[data-command='runmenu:run-all']").click()

    def url(self, ui: str, notebook: str) -> str:
        """The notebook opened in JupyterLab (``ui="lab"``) or Notebook 7 (``"notebook"``).

        Lab gets ``reset``: its workspace would reopen the notebooks of earlier tests."""
        if ui == "lab":
            return f"{self.base_url}/lab/tree/{notebook}?reset&token={self.token}"
        if ui == "notebook":
            return f"{self.base_url}/notebooks/{notebook}?token={self.token}"
        raise ValueError(f"ui must be 'lab' or 'notebook', not {ui!r}")

    def wait_for_idle_kernel(self, notebook: str) -> None:
        """The page's idle indicator reads idle before a kernel exists; the server knows."""

        def idle_kernel():
            for session in self.api("GET", "sessions"):
                kernel = session.get("kernel") or {}
                if session.get("path") == notebook and kernel.get("execution_state") == "idle":
                    return True
            return False

        _poll(idle_kernel, KERNEL_IDLE_TIMEOUT, f"an idle kernel for {notebook}")


@pytest.fixture(scope="session")
def jupyter(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("jupyter")
    dirs = {
        name: base / name
        for name in ("notebooks", "settings", "config", "runtime", "data", "workspaces", "ipython")
    }
    for path in dirs.values():
        path.mkdir()
    (dirs["settings"] / "overrides.json").write_text(json.dumps(LAB_OVERRIDES))
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
        "IPYTHONDIR": str(dirs["ipython"]),
        # Kernels import this checkout's dezero_widget even where it is not pip-installed.
        "PYTHONPATH": kernel_pythonpath(),
    }
    token = secrets.token_hex(16)
    port = _free_port()
    log_path = base / "server.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        f"--IdentityProvider.token={token}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={dirs['notebooks']}",
        f"--LabApp.app_settings_dir={dirs['settings']}",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, cwd=base, stdout=log, stderr=subprocess.STDOUT)
    server = JupyterServer(f"http://127.0.0.1:{port}", token, dirs["notebooks"], process, log_path)

    def answering():
        if process.poll() is not None:
            pytest.fail(f"jupyter lab exited with {process.returncode}:\n{server.log_tail()}")
        try:
            return server.api("GET", "status") is not None
        except (urllib.error.URLError, ConnectionError):
            return False

    try:
        _poll(answering, SERVER_START_TIMEOUT, "jupyter lab to answer /api/status")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Remember whether the test body failed, for the failure screenshot."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed


def _screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def notebook_page(request: pytest.FixtureRequest, jupyter: JupyterServer, chromium):
    """A fresh page; at teardown, a screenshot if the test failed (test-artifacts/failed-*.png),
    and a failure on page errors that are not known to be unrelated."""
    jupyter.shut_down_kernels()
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    if request.node.stash.get(_CALL_FAILED, False):
        _screenshot(page, "failed-" + "".join(c if c.isalnum() else "_" for c in request.node.name))
    context.close()
    related = [e for e in errors if not any(known in e for known in KNOWN_UNRELATED_PAGE_ERRORS)]
    assert not related, f"page errors: {related}"


@pytest.fixture
def save_screenshot():
    """``save_screenshot(page, name)``: a PNG in test-artifacts/ (gitignored) for a person to look at."""
    return _screenshot


@pytest.fixture
def run_cell():
    """``run_cell(page, index)``: select a cell by clicking its editor and run it with
    Shift+Enter, as a person would (the same keys in JupyterLab and Notebook 7)."""

    def run(page, index: int) -> None:
        dom.cells(page).nth(index).locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")

    return run
