# One replica of the explorer: `docker build -t cnn-rnn-explorer .` then
# `docker run --rm -p 8501:8501 cnn-rnn-explorer` and open http://localhost:8501.
# Several replicas behind a load balancer with sticky sessions: deploy/ and docs/deploy.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8501

WORKDIR /app

# The README's install command, in its own layer: code changes do not reinstall torch. The extra
# index offers torch's CPU wheel (2.13.0+cpu, preferred to PyPI's 2.13.0 by its local label):
# PyPI's Linux wheel pulls in CUDA libraries, gigabytes that a CPU replica never uses.
ENV PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu
COPY requirements.txt ./
RUN pip install -r requirements.txt

# What the server reads: the entry point, the pages, the engine, the figures, the catalog, the
# shipped weights and samples, the server's settings, and the start command.
COPY launch.py app.py runtime_tuning.py ./
COPY .streamlit/ .streamlit/
COPY app_pages/ app_pages/
COPY engine/ engine/
COPY ui/ ui/
COPY locales/ locales/
COPY assets/ assets/
COPY static/ static/
COPY scripts/serve.sh scripts/serve.sh

# The server writes nothing but its own home's settings: run as a plain user with a home.
RUN useradd --create-home --uid 10001 explorer
USER explorer
EXPOSE 8501

# The slim image has no curl; Python is there. Streamlit answers "ok" once it can serve.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['PORT']}/_stcore/health\", timeout=4)"]

CMD ["scripts/serve.sh"]
