#!/usr/bin/env sh
# Serve the app: the one start command of the container image (Dockerfile) and of the test that
# runs it here (tests/test_deploy.py). PORT (default 8501) and ADDRESS (default 0.0.0.0: every
# interface, as a container needs) come from the environment; any other argument goes to
# `streamlit run` (e.g. --server.disconnectedSessionTTL 60). The rest of the server's settings are
# the app's own, in .streamlit/config.toml. Health check: GET /_stcore/health answers "ok".
set -eu
cd "$(dirname "$0")/.."
# Two malloc arenas, not glibc's eight per core: memory a thread freed is reused by the next one
# instead of each thread growing its own heap (docs/deploy.md: lower RSS after learners leave).
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
exec python -m streamlit run launch.py \
  --server.port "${PORT:-8501}" \
  --server.address "${ADDRESS:-0.0.0.0}" \
  --server.headless true \
  --server.fileWatcherType none \
  --browser.gatherUsageStats false \
  "$@"
