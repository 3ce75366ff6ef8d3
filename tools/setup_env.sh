#!/usr/bin/env bash
# Create or refresh the project's virtual environment with the pinned stack.
#   bash tools/setup_env.sh            # ./.venv
#   MMMG_VENV=/path/to/venv bash tools/setup_env.sh
# A torch/torchvision already in the venv that satisfies constraints.txt
# (e.g. 2.11.0+cu126 on a GPU node) is kept. Re-running is a no-op until
# requirements.txt, constraints.txt or setup.py change.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${MMMG_VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}
STAMP=$(cat "$ROOT/requirements.txt" "$ROOT/constraints.txt" "$ROOT/setup.py" \
    | sha256sum | cut -c1-16)

if [ -f "$VENV/.mmmg-stamp" ] && [ "$(cat "$VENV/.mmmg-stamp")" = "$STAMP" ]; then
    exit 0
fi
start=$(date +%s)
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q -c "$ROOT/constraints.txt" --upgrade pip setuptools wheel
"${PIP[@]}" install -c "$ROOT/constraints.txt" -e "$ROOT[tests,lint]"
"$VENV/bin/python" -c "import mmmg, mmaction, torch; print('mmmg', mmmg.__version__, '| mmaction2', mmaction.__version__, '| torch', torch.__version__)"
echo "$STAMP" > "$VENV/.mmmg-stamp"
echo "environment ready in $(( $(date +%s) - start )) s: $VENV"
