# One image for every Switchboard service; the command picks the service:
#   docker run IMAGE switchboard service intake
FROM python:3.11-slim AS build
RUN pip install --no-cache-dir uv
WORKDIR /src
COPY requirements.lock ./
RUN uv venv /opt/venv && uv pip sync --python /opt/venv/bin/python --require-hashes requirements.lock
COPY libs libs
COPY services services
RUN uv pip install --python /opt/venv/bin/python --no-deps \
      ./libs/common ./libs/cli ./services/intake ./services/routing ./services/recording

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 switchboard
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SWITCHBOARD_HOST=0.0.0.0 \
    SWITCHBOARD_VAR_DIR=/var/lib/switchboard
RUN mkdir -p /var/lib/switchboard && chown switchboard /var/lib/switchboard
USER switchboard
WORKDIR /home/switchboard
# SWITCHBOARD_SERVICE names the service this container runs, for the health check.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD switchboard healthcheck "${SWITCHBOARD_SERVICE:-intake}"
CMD ["switchboard", "--help"]
