"""launch.py (issue 13): a server it starts has imported every page's modules before it answers
anyone, and warms the shared models and tables with no learner there to start it.
`streamlit run app.py` does neither: it imports on its first visit, and starts the warm-up then."""

from __future__ import annotations

import time

from tests.e2e.conftest import OUT, serve_app

WARMUP_LIMIT_S = 180


def test_a_server_started_by_launch_py_is_warmed_before_anyone_visits():
    OUT.mkdir(parents=True, exist_ok=True)
    log = OUT / "warm-start.log"
    with serve_app(log) as _url:  # returns once the health check answers
        assert "modules imported in" in log.read_text(errors="replace")
        deadline = time.time() + WARMUP_LIMIT_S
        while "warm-up done" not in log.read_text(errors="replace"):
            assert time.time() < deadline, f"no warm-up without a visit; see {log}"
            time.sleep(0.5)
    done = next(line for line in log.read_text().splitlines() if "warm-up done" in line)
    assert " 0 failed" in done, done
