"""Front-end layout/render benchmark in headless Chromium (not a test).

Serves benchmarks/layout_harness/ plus the built bundle (dezero_widget/static/widget.js) from a
temporary directory on 127.0.0.1, mounts the widget with a fake anywidget model on synthetic
autodiff-shaped graphs, and prints per graph: time from the snapshot's arrival to the graph on
screen, the longest main-thread task (PerformanceObserver "longtask"), and the time of a
values-only refresh. Budgets: <= 500 ms at 1k nodes, <= 3 s at 10k, no task over 200 ms,
refresh <= 100 ms at 1k. Also saves seed-graph screenshots (light and dark) to /tmp.

Run: .venv/bin/python benchmarks/bench_layout.py  (after `npm run build` in js/)
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
HARNESS = Path(__file__).resolve().parent / "layout_harness"
BUNDLE = ROOT / "dezero_widget" / "static" / "widget.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CASES = [
    ("seed", 5),
    ("chain", 200),
    ("mlp", 200),
    ("chain", 1000),
    ("fanIn", 1000),
    ("mlp", 1000),
    ("chain", 10000),
    ("fanIn", 10000),
    ("mlp", 10000),
]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        """Keeps the benchmark's output to the numbers."""


def serve(directory: Path) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per graph; the median is reported")
    parser.add_argument("--screenshots", default="/tmp", help="directory for the seed screenshots")
    args = parser.parse_args()
    if not BUNDLE.exists():
        raise SystemExit(f"{BUNDLE} is missing: run `npm run build` in js/ first")

    with tempfile.TemporaryDirectory(prefix="dzw-bench-") as tmp:
        site = Path(tmp)
        for name in ("index.html", "harness.js"):
            shutil.copy(HARNESS / name, site / name)
        shutil.copy(BUNDLE, site / "widget.js")
        server = serve(site)
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
                )
                try:
                    page = browser.new_page(viewport={"width": 1100, "height": 700})
                    errors: list[str] = []
                    page.on("pageerror", lambda error: errors.append(str(error)))
                    page.goto(url)
                    page.wait_for_function("window.benchReady === true")
                    run_cases(page, args.repeat)
                    take_screenshots(page, Path(args.screenshots))
                    if errors:
                        raise SystemExit(f"page errors: {errors}")
                finally:
                    browser.close()
        finally:
            server.shutdown()
            server.server_close()


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def run_cases(page, repeat: int) -> None:
    header = f"{'graph':<8}{'nodes':>7}{'edges':>7}  {'engine':<8}{'on screen ms':>13}{'longest task ms':>16}{'refresh ms':>11}"
    print(header)
    print("-" * len(header))
    for shape, total in CASES:
        runs = [page.evaluate("([s, n]) => window.bench.run(s, n)", [shape, total]) for _ in range(repeat)]
        first = runs[0]
        assert all(run["drawnNodes"] == run["nodes"] for run in runs), "not every node was drawn"
        assert all(run["gradOk"] for run in runs), "the values-only refresh did not show grads"
        print(
            f"{shape:<8}{first['nodes']:>7}{first['edges']:>7}  {first['engine']:<8}"
            f"{median([r['firstRenderMs'] for r in runs]):>13.0f}"
            f"{max(r['longestTaskMs'] for r in runs):>16.0f}"
            f"{median([r['refreshMs'] for r in runs]):>11.1f}"
        )
    print("(median of runs; longest task is the max over runs; 0 = no task over 50 ms)")


def take_screenshots(page, directory: Path) -> None:
    for theme, dark in (("light", False), ("dark", True)):
        page.evaluate("(dark) => window.bench.showSeed(dark)", dark)
        path = directory / f"dezero-widget-seed-{theme}.png"
        page.locator('[data-testid="autodiff-graph"]').screenshot(path=str(path))
        print(f"screenshot: {path}")


if __name__ == "__main__":
    main()
