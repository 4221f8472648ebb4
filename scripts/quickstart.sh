#!/usr/bin/env bash
# One command for a newcomer: install, migrate an embedded SQLite database, load demo data
# and start the server at http://127.0.0.1:8000/ (no PostgreSQL, Redis or Docker needed).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"

export DEBUG=${DEBUG:-true}
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py seed_demo --if-empty --students "${DEMO_STUDENTS:-300}"
# Apply the lifecycle rules once so timelines and at-risk flags reflect the demo facts.
.venv/bin/python manage.py scan_lifecycle
echo
echo "Open http://127.0.0.1:${PORT:-8000}/ and log in with one of the accounts above."
exec .venv/bin/python manage.py runserver "127.0.0.1:${PORT:-8000}"
