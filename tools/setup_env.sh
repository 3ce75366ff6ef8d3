#!/usr/bin/env bash
# Create or refresh the project's virtual environment with the pinned stack.
#   bash tools/setup_env.sh            # ./.venv
#   MMMG_VENV=/path/to/venv bash tools/setup_env.sh
#   MMMG_STACK=mmaction12 MMMG_VENV=.venv-mmaction12 bash tools/setup_env.sh
# MMMG_STACK=<name> overrides constraints.txt's pins with those of
# constraints-<name>.txt and installs them (the second supported stack:
# MMAction2 1.2.0 and mmcv-lite 2.1).
# A torch/torchvision already in the venv that satisfies constraints.txt
# (e.g. 2.11.0+cu126 on a GPU node) is kept. Re-running is a no-op until
# requirements.txt, constraints.txt or setup.py change.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${MMMG_VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}
CONSTRAINTS=$ROOT/constraints.txt
EXTRA=()
if [ -n "${MMMG_STACK:-}" ]; then
    OVERLAY=$ROOT/constraints-$MMMG_STACK.txt
    [ -f "$OVERLAY" ] || { echo "setup_env.sh: no $OVERLAY" >&2; exit 2; }
    CONSTRAINTS=$(mktemp)
    trap 'rm -f "$CONSTRAINTS"' EXIT
    # The overlay's packages replace the base pins of the same name.
    names=$(sed -n 's/^\([A-Za-z0-9_.-]*\)==.*/\1/p' "$OVERLAY" | paste -sd'|')
    { grep -vE "^($names)==" "$ROOT/constraints.txt"; grep -E '==' "$OVERLAY"; } \
        > "$CONSTRAINTS"
    EXTRA=(-r "$OVERLAY")
fi
STAMP=$(cat "$ROOT/requirements.txt" "$CONSTRAINTS" "$ROOT/setup.py" \
    | sha256sum | cut -c1-16)

if [ -f "$VENV/.mmmg-stamp" ] && [ "$(cat "$VENV/.mmmg-stamp")" = "$STAMP" ]; then
    exit 0
fi
start=$(date +%s)
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q -c "$CONSTRAINTS" --upgrade pip setuptools wheel
"${PIP[@]}" install -c "$CONSTRAINTS" -e "$ROOT[tests,lint]" "${EXTRA[@]}"
"$VENV/bin/python" -c "import mmmg, mmaction, mmaction.models, torch; print('mmmg', mmmg.__version__, '| mmaction2', mmaction.__version__, '| torch', torch.__version__)"
echo "$STAMP" > "$VENV/.mmmg-stamp"
echo "environment ready in $(( $(date +%s) - start )) s: $VENV"
