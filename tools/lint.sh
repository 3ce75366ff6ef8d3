#!/usr/bin/env bash
# Lint as MMAction2 does: flake8, isort and yapf with the settings in setup.cfg.
#   bash tools/lint.sh          # check (CI)
#   bash tools/lint.sh --fix    # rewrite imports and formatting in place
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${MMMG_VENV:-$ROOT/.venv}
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
export PATH="$VENV/bin:$PATH"
PATHS=(mmmg tools tests data_prep benchmarks configs setup.py)
if [ "${1:-}" = "--fix" ]; then
    isort "${PATHS[@]}"
    yapf -r -i "${PATHS[@]}"
fi
flake8 "${PATHS[@]}"
isort --check-only --diff "${PATHS[@]}"
yapf -r --diff "${PATHS[@]}"
echo "lint passed"
