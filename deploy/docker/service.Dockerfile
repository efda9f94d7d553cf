# syntax=docker/dockerfile:1
#
# The image of one Taquilla service. Build from the repository root:
#   docker build -f deploy/docker/service.Dockerfile --build-arg SERVICE=orders -t taquilla/orders:0.1.0 .
#
# Why one file serves eight images: the services share one uv workspace and one lock, the same
# base image, user, health probe and entrypoint; only the package installed differs. Eight copies
# would drift (a base-image or hardening fix landing in seven of them), so SERVICE is a build
# argument and everything else is identical by construction.
#
# The image runs `python -m <svc>_service <kind>`: CMD is `api`; pass `worker`, `migrate` (a
# one-shot) or, for inventory, `grpc`. It needs no write access to its root filesystem: give it
# a writable /tmp and nothing else (compose: read_only + tmpfs; Kubernetes: an emptyDir).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.8

FROM ${UV_IMAGE} AS uv

# ---------------------------------------------------------------------------------------------
# The workspace's manifests only (uv.lock and every pyproject.toml, in their folders). This stage
# reruns on any change in the context, but its output changes only when a manifest does, so the
# third-party layer in the builder stays cached while source code changes.
FROM ${PYTHON_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN find . -type f ! -name pyproject.toml ! -name uv.lock -delete \
 && find . -depth -type d -empty -delete

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder
ARG SERVICE
RUN test -n "${SERVICE}" || { echo "build with --build-arg SERVICE=<service name>" >&2; exit 1; }
COPY --from=uv /uv /usr/local/bin/uv
# The builder's interpreter is the runtime's (same base image): the venv is copied as it is.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app

# 1. Third-party dependencies of this service alone, exactly as locked (slow, rarely changes).
COPY --from=manifests /src/ ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package "taquilla-${SERVICE}"

# 2. The shared libs and this service's code (fast, changes often). Workspace members install
# editable on purpose: a service finds its alembic.ini and migrations/ next to its source
# (services/<svc>/), which a wheel in site-packages would leave behind.
COPY libs/ libs/
COPY services/${SERVICE}/ services/${SERVICE}/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package "taquilla-${SERVICE}" \
 && python -m compileall -q -j 0 --invalidation-mode unchecked-hash libs "services/${SERVICE}/src" \
 && python -c "import ${SERVICE}_service"

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
LABEL org.opencontainers.image.title="taquilla-${SERVICE}" \
      org.opencontainers.image.description="Taquilla ${SERVICE} service"

RUN groupadd --system --gid 10001 taquilla \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin taquilla

# Code and environment stay owned by root: the service user can read them, never change them.
COPY --from=builder /app /app
COPY deploy/docker/healthcheck.py /opt/taquilla/healthcheck.py

ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TMPDIR=/tmp \
    TAQUILLA_SERVICE=${SERVICE}
WORKDIR /app
USER 10001:10001

HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/opt/taquilla/healthcheck.py"]
STOPSIGNAL SIGTERM
# `exec` makes python PID 1, so SIGTERM reaches the runner's graceful stop; the shell is only
# there to expand the service name fixed at build time.
ENTRYPOINT ["/bin/sh", "-c", "exec python -m \"${TAQUILLA_SERVICE}_service\" \"$@\"", "taquilla"]
CMD ["api"]
