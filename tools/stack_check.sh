#!/usr/bin/env bash
# The toy end to end in a second supported stack, with the stack's own
# versions: install -> tiny toy release -> convert -> train the joint and
# limb PoseConv3D toys briefly -> test on val and test -> fuse.
#   bash tools/stack_check.sh                # MMAction2 1.2.0 + mmcv-lite 2.1
#   MMMG_STACK=mmaction12 bash tools/stack_check.sh
# It checks that every tool runs and writes its outputs in that stack (the
# figures of a 2-epoch training mean nothing); the venv is .venv-<stack>.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export MMMG_STACK=${MMMG_STACK:-mmaction12}
export MMMG_VENV=${MMMG_VENV:-$ROOT/.venv-$MMMG_STACK}
WORK=${WORK:-$(mktemp -d)}
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
export PATH="$MMMG_VENV/bin:$PATH"
PY="$MMMG_VENV/bin/python"
start=$(date +%s)
step() { echo "== [$(( $(date +%s) - start )) s] $*"; }

"$PY" -c "import mmaction, mmcv, mmmg; print('stack:', 'mmaction2', \
mmaction.__version__, '| mmcv-lite', mmcv.__version__)"
step "tiny toy release and conversion"
"$PY" data_prep/make_toy_imigue.py --out "$WORK/release" --size tiny --workers 1
"$PY" data_prep/imigue_to_mmaction.py "$WORK/release" --out "$WORK/ann" \
    --layout mg36 --workers 1 --no-progress
ANN=$WORK/ann/imigue_mg36.pkl
for stream in joint limb; do
    config=configs/skeleton/posec3d/posec3d_slowonly_mg36_${stream}_toy.py
    step "train $stream"
    "$PY" tools/train.py "$config" --work-dir "$WORK/$stream" --cfg-options \
        "train_dataloader.dataset.ann_file=$ANN" "val_dataloader.dataset.ann_file=$ANN" \
        "test_dataloader.dataset.ann_file=$ANN" train_cfg.max_epochs=2 \
        train_cfg.val_interval=2 'param_scheduler.1.T_max=1' 'param_scheduler.1.end=2'
    for split in val test; do
        step "test $stream on $split"
        "$PY" tools/test.py "$config" "$(cat "$WORK/$stream/last_checkpoint")" \
            --work-dir "$WORK/$stream" --dump "$WORK/scores/${split}_$stream.pkl" \
            --stream "$stream" --cfg-options "test_dataloader.dataset.ann_file=$ANN" \
            "test_dataloader.dataset.split=$split"
    done
done
step "fuse"
"$PY" tools/fuse_scores.py --out-dir "$WORK/fusion" \
    --val joint="$WORK/scores/val_joint.pkl" limb="$WORK/scores/val_limb.pkl" \
    --test joint="$WORK/scores/test_joint.pkl" limb="$WORK/scores/test_limb.pkl"
test -s "$WORK/fusion/submission.csv"
echo "stack check ($MMMG_STACK) passed in $(( $(date +%s) - start )) s"
