#!/usr/bin/env bash
# The test suite. Without DATABASE_URL it runs on SQLite; CI sets DATABASE_URL (PostgreSQL)
# and REDIS_URL (Redis + a real Celery worker for the integration tests).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/pytest ]; then
  "${PYTHON:-python3}" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
fi
exec .venv/bin/pytest "$@"
