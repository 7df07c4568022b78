# policybot's container image: `policybot serve`, as an unprivileged user, from the hash-pinned
# lock file. Two stages: the first builds a virtual environment, the second copies only that
# environment onto a fresh base, so no build tools, caches or sources reach the running image.
#
#   docker build -t policybot .
#   docker run --env-file .env -v policybot-data:/data -p 3978:3978 policybot
#
# compose.yaml runs it with PostgreSQL; README.md, "Running it for real", says how.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python3.11 -m venv /opt/policybot
# Every package from the lock, checked against its hashes, as wheels only: nothing is compiled,
# so the image needs no compiler, and what runs is exactly what the lock names.
COPY requirements.lock ./
RUN /opt/policybot/bin/pip install --require-hashes --only-binary=:all: -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY storage ./storage
RUN /opt/policybot/bin/pip install --no-deps --no-build-isolation . \
    && /opt/policybot/bin/policybot --version

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/policybot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    POLICYBOT_DATA_DIR=/data \
    PORT=3978
# The data directory (SQLite, evidence, the inbound journal, the audit anchor) belongs to the
# service user alone; policybot keeps it 0700. A fixed uid lets a host directory be prepared
# for it, and lets an orchestrator check that the image does not run as root.
RUN groupadd --system --gid 10001 policybot \
    && useradd --system --uid 10001 --gid policybot --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin policybot \
    && install -d -o policybot -g policybot -m 0700 /data
COPY --from=build /opt/policybot /opt/policybot
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3978
# Alive: the server answers on PORT. compose.yaml checks /readyz (the database and storage)
# instead, for the services that wait for the bot.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3978') + '/healthz', timeout=4)"]
CMD ["policybot", "serve"]
