# One image for every Switchboard service; the command picks the service:
#   docker run IMAGE switchboard service intake
# Build stage: uv resolves nothing here, it installs exactly requirements.lock (hashes checked)
# and the workspace's own packages into a virtual environment that the final stage copies,
# compiled to bytecode here: the services run as a user who cannot write it, so would otherwise
# compile every module they import at each start.
FROM python:3.11-slim AS build
RUN pip install --no-cache-dir uv
WORKDIR /src
COPY requirements.lock ./
RUN uv venv /opt/venv \
 && uv pip sync --compile-bytecode --python /opt/venv/bin/python --require-hashes requirements.lock
COPY libs libs
COPY services services
RUN uv pip install --compile-bytecode --python /opt/venv/bin/python --no-deps ./libs/* ./services/*

# Final stage: the interpreter, the virtual environment and Tesseract (intake reads scanned
# letters and faxes); no compilers, no package installers (pip removed); a non-root user.
FROM python:3.11-slim
RUN apt-get update \
 && apt-get install --yes --no-install-recommends tesseract-ocr tesseract-ocr-eng \
 && rm -rf /var/lib/apt/lists/* \
 && python -m pip uninstall --yes --quiet pip setuptools wheel \
 && useradd --create-home --uid 10001 switchboard \
 && mkdir -p /var/lib/switchboard && chown switchboard /var/lib/switchboard
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SWITCHBOARD_HOST=0.0.0.0 \
    SWITCHBOARD_VAR_DIR=/var/lib/switchboard
USER 10001
WORKDIR /home/switchboard
# SWITCHBOARD_SERVICE names the service this container runs, for the health check.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD switchboard healthcheck "${SWITCHBOARD_SERVICE:-intake}"
CMD ["switchboard", "--help"]
