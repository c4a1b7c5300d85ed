"""The deployment as far as this machine allows (no container engine here; see docs/deploy.md).

The image's start command (scripts/serve.sh) serves the health endpoint and a page; the Dockerfile,
.dockerignore, compose file and nginx config parse and name files and services that exist; and the
pure parts of `python -m benchmarks sessions` (percentiles, /proc and metrics parsing, arguments).
"""

from __future__ import annotations

import ast
import fnmatch
import os
import re
import shlex
import subprocess
import tomllib
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from benchmarks import bench_sessions as bs
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, _free_port, _wait_healthy

ROOT = Path(__file__).resolve().parent.parent
SERVE = ROOT / "scripts" / "serve.sh"
DEPLOY = ROOT / "deploy"


# ---- the start command


def _dockerfile() -> list[tuple[str, str]]:
    """Return (instruction, arguments) of each Dockerfile line, continuations joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    rows = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            rows.append((word.upper(), rest.strip()))
    return rows


def _instructions(name: str) -> list[str]:
    return [rest for word, rest in _dockerfile() if word == name]


def test_the_image_starts_with_the_serve_script():
    (cmd,) = _instructions("CMD")
    assert ast.literal_eval(cmd) == ["scripts/serve.sh"]
    assert os.access(SERVE, os.X_OK)


@pytest.mark.e2e
def test_the_serve_script_serves_the_health_check_and_a_page(tmp_path):
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "ADDRESS": "127.0.0.1", "EXPLORER_WARMUP": "0"}
    env.pop("MALLOC_ARENA_MAX", None)  # the script's own default is what the image runs
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen([str(SERVE)], env=env, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as reply:
            assert reply.read().decode().strip() == "ok"
        assert bs.server_pid(url) == proc.pid  # the script execs the server: one process
        environ = Path(f"/proc/{proc.pid}/environ").read_bytes().split(b"\0")
        assert b"MALLOC_ARENA_MAX=2" in environ
        with ThreadPoolExecutor(1) as pool:  # its own thread: the e2e tests' Playwright may be
            pool.submit(_open_kernels_page, url).result()  # running on this one (sync API)
        with urllib.request.urlopen(f"{url}/_stcore/metrics", timeout=5) as reply:
            sizes = bs.cache_sizes(
                reply.read().decode()
            )  # the benchmark's parser, on the real thing
        assert sizes.get("ui.inputs._decode", 0) > 0  # the page decoded its sample picture
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _open_kernels_page(url: str) -> None:
    """Open the kernels page in Chromium; assert it renders its title and no exception."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page()
        page.goto(f"{url}/kernels")
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=120_000)  # plotly.js served
        assert page.locator("h1").first.inner_text().strip()
        assert page.locator('[data-testid="stException"]').count() == 0
        browser.close()


# ---- the Dockerfile and .dockerignore


def _copied() -> list[str]:
    """Return every source path the Dockerfile copies."""
    sources = []
    for rest in _instructions("COPY"):
        sources += shlex.split(rest)[:-1]
    return sources


def test_every_copied_path_exists_and_is_not_ignored():
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for source in _copied():
        assert (ROOT / source).exists(), source
        hits = [p for p in ignored if fnmatch.fnmatch(source.rstrip("/"), p.rstrip("/"))]
        assert not hits, f"{source} is copied but .dockerignore drops it ({hits})"


def _local_imports() -> set[str]:
    """Return the top-level local modules the server imports (launch.py, app.py, pages, engine,
    ui)."""
    files = [ROOT / "launch.py", ROOT / "app.py", ROOT / "runtime_tuning.py"]
    for folder in ("app_pages", "engine", "ui"):
        files += (ROOT / folder).rglob("*.py")
    tops = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                tops.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                tops.update(a.name.split(".")[0] for a in node.names)
    return {t for t in tops if (ROOT / t).is_dir() or (ROOT / f"{t}.py").is_file()}


def test_the_image_holds_every_local_module_the_server_imports():
    copied = {s.rstrip("/").removesuffix(".py") for s in _copied()}
    assert _local_imports() <= copied
    for needed in ("app_pages", "assets", "locales", ".streamlit", "scripts/serve.sh"):
        assert needed in copied  # read from disk, not imported


def test_the_image_installs_what_the_readme_installs():
    readme = (ROOT / "README.md").read_text()
    assert "pip install -r requirements.txt" in readme
    assert "pip install -r requirements.txt" in _instructions("RUN")


def test_the_image_checks_the_health_endpoint_on_its_port():
    (check,) = _instructions("HEALTHCHECK")
    assert "/_stcore/health" in check
    assert "PORT=8501" in " ".join(_instructions("ENV"))
    assert _instructions("EXPOSE") == ["8501"]


# ---- the replicas behind a load balancer


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _replicas(compose: dict) -> dict[str, dict]:
    return {k: v for k, v in compose["services"].items() if "build" in v}


def test_compose_builds_several_replicas_from_this_dockerfile():
    replicas = _replicas(_compose())
    assert len(replicas) >= 2
    for service in replicas.values():
        build = service["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == ROOT / "Dockerfile"
        assert "/_stcore/health" in " ".join(service["healthcheck"]["test"])
        limits = service["deploy"]["resources"]["limits"]
        assert float(limits["cpus"]) > 0 and limits["memory"]


def test_the_balancer_mounts_a_config_that_exists_and_waits_for_healthy_replicas():
    compose = _compose()
    balancer = compose["services"]["balancer"]
    (mount,) = balancer["volumes"]
    assert (DEPLOY / mount.split(":")[0]).is_file()
    waits = balancer["depends_on"]
    assert set(waits) == set(_replicas(compose))
    assert {w["condition"] for w in waits.values()} == {"service_healthy"}


def _nginx() -> str:
    return (DEPLOY / "nginx.conf").read_text()


def test_nginx_sends_to_every_replica_with_sticky_sessions_and_websockets():
    conf = _nginx()
    servers = re.findall(r"^\s*server\s+([\w-]+):(\d+)", conf, re.MULTILINE)
    assert {name for name, _ in servers} == set(_replicas(_compose()))
    assert {port for _, port in servers} == {"8501"}  # scripts/serve.sh's default PORT
    assert re.search(r"hash \$sticky_key consistent;", conf)
    assert "explorer_replica=$sticky_key" in conf  # the key travels back as the cookie
    assert "proxy_set_header Upgrade $http_upgrade;" in conf


def test_nginx_accepts_the_largest_upload_the_app_accepts():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    (body,) = re.findall(r"client_max_body_size (\d+)m;", _nginx())
    assert int(body) > config["server"]["maxUploadSize"]


# ---- the sessions benchmark's pure parts


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60), st.floats(0, 100))
def test_percentile_is_numpys_linear_percentile(values, q):
    assert bs.percentile(values, q) == pytest.approx(np.percentile(values, q), abs=1e-6)


def test_percentile_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        bs.percentile([], 50)


def test_status_fields_match_the_kernels_page_count():
    pages = int(Path("/proc/self/statm").read_text().split()[1])  # resident pages
    rss_kib = bs.status_kib(Path("/proc/self/status").read_text(), "VmRSS")
    assert rss_kib == pytest.approx(pages * os.sysconf("SC_PAGE_SIZE") / 1024, abs=2048)
    with pytest.raises(ValueError):
        bs.status_kib("Name:\tpython\n", "VmRSS")


def test_stat_cpu_seconds_match_os_times():
    sum(i * i for i in range(2_000_000))  # spend some CPU time
    times = os.times()
    stat = Path("/proc/self/stat").read_text()
    assert bs.stat_cpu_seconds(stat) == pytest.approx(times.user + times.system, abs=0.05)
    odd = "42 (a b) c) S " + " ".join(["0"] * 10) + " 250 150 " + " ".join(["0"] * 30)
    assert bs.stat_cpu_seconds(odd) == 400 / os.sysconf("SC_CLK_TCK")  # a name with ") "


def test_serves_port_reads_a_streamlit_command_line():
    line = b"python\0-m\0streamlit\0run\0app.py\0--server.port\08123\0"
    assert bs.serves_port(line, 8123)
    assert not bs.serves_port(line, 8124)
    assert not bs.serves_port(b"python\0other.py\0--server.port\08123\0", 8123)


def test_split_suites_gives_a_count_to_the_suite_before_it():
    assert bs.split_suites(["sessions", "12"]) == (["sessions"], {"sessions": 12})
    assert bs.split_suites(["pooling", "sessions"]) == (["pooling", "sessions"], {})
    for bad in (["12"], ["sessions", "0"], ["sessions", "3", "4"]):
        with pytest.raises(ValueError):
            bs.split_suites(bad)


def test_cache_sizes_reads_each_cache_memory_line():
    text = "\n".join(
        [
            'cache_memory_bytes{cache_type="st_cache_data",cache="ui.inputs._decode"} 3540948',
            'cache_memory_bytes{cache_type="st_session_state",cache=""} 22',
            'cache_lookups_total{cache="ui.inputs._decode",cache_type="st_cache_data"} 4',
        ]
    )
    assert bs.cache_sizes(text) == {"ui.inputs._decode": 3540948, "st_session_state": 22}


def test_summary_verdict_on_both_sides_of_the_target():
    at = [bs.TARGET_P95_S] * 4
    assert "holds" in bs.summary("x", at)
    assert "MISSED" in bs.summary("x", [*at[:3], bs.TARGET_P95_S + 0.5])
