#!/usr/bin/env bash
# GPU acceptance run (see benchmarks/gpu_acceptance.py): toy training through
# tools/dist_train.sh with --amp, device heatmaps against the CPU transform,
# one timed training iteration of every full config, VideoMAE pre-training
# with AMP and with_cp, pose extraction on ONNX Runtime's CUDA provider.
#   bash benchmarks/gpu_acceptance.sh [--dry-run] [gpu_acceptance.py args]
# Installs the environment with tools/setup_env.sh first when MMMG_VENV
# (default .venv) has none; --dry-run runs every step on the CPU.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${MMMG_VENV:-$ROOT/.venv}
if [ ! -x "$VENV/bin/python" ]; then
    bash "$ROOT/tools/setup_env.sh"
fi
cd "$ROOT"
export PATH="$VENV/bin:$PATH" PYTHONUNBUFFERED=1
exec "$VENV/bin/python" benchmarks/gpu_acceptance.py "$@"
