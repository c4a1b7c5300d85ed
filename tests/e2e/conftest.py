"""Start the real app with `streamlit run` on a free port and drive it with the system Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test-output" / "e2e"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_app(
    log: Path, env: dict[str, str] | None = None, script: str = "launch.py"
) -> Iterator[str]:
    """Yield the URL of a fresh `streamlit run <script>` (the app by default, as launch.py starts
    it; a path from the repository root) on a free port, output to log; stop it after. Shared by
    the browser tests and `python -m benchmarks browser`."""
    port = _free_port()
    args = ["--server.port", str(port), "--server.address", "127.0.0.1"]
    args += ["--server.headless", "true", "--server.fileWatcherType", "none"]
    args += ["--browser.gatherUsageStats", "false"]
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", script, *args],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, limit: float = 90) -> None:
    """Return once the server answers its health check; raise if it exits or never answers."""
    deadline = time.time() + limit
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"streamlit did not become healthy; see {log}")


@pytest.fixture(scope="session")
def app_url():
    OUT.mkdir(parents=True, exist_ok=True)
    with serve_app(OUT / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="session")
def playwright():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (see .ci/run)")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright):
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield b
    b.close()


@pytest.fixture(scope="session")
def browser_with_camera(playwright):
    """A second Chromium whose fake media device plays the part of a webcam."""
    args = [*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
    yield b
    b.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    p = context.new_page()
    yield p
    context.close()


def wait_idle(page, timeout: float = 90_000) -> None:
    """Wait until Streamlit has rendered a page and stayed idle (no running indicator) for 1.5 s.

    The running indicator appears only some hundreds of milliseconds after a rerun starts, so a
    single look can see "idle" before the run has even begun.
    """
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.evaluate("() => { window.__idleSince = null; }")
    page.wait_for_function(
        """() => {
            const busy = !!document.querySelector('[data-testid="stStatusWidget"]');
            if (busy || !document.querySelector('h1')) { window.__idleSince = null; return false; }
            window.__idleSince = window.__idleSince || Date.now();
            return Date.now() - window.__idleSince > 1500;
        }""",
        polling=200,
        timeout=timeout,
    )


def shot(page, name: str) -> Path:
    """Save a screenshot of the whole page: Streamlit scrolls inside its main block, so grow the
    viewport to that block's height first, then put it back."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate(
        '() => Math.max(...[...document.querySelectorAll(\'[data-testid="stMain"], '
        '[data-testid="stAppViewContainer"]\')].map(e => e.scrollHeight), 600)'
    )
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 12000)})
    page.wait_for_timeout(600)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path
