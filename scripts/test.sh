#!/usr/bin/env bash
# Run the whole test suite (pure, model and real-window tests under Xvfb) plus the linters.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k click`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh  # quick when nothing changed: pip runs only when pyproject.toml did
.venv/bin/ruff check src tests benchmarks scripts tools
.venv/bin/ruff format --check src tests benchmarks scripts tools
.venv/bin/mypy
# pytest-xvfb starts a virtual display for the Qt tests; they skip if there is none.
.venv/bin/python -m pytest "$@"
