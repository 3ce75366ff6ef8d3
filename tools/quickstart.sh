#!/usr/bin/env bash
# End to end on the toy data: install -> generate -> convert -> train the
# joint and limb skeleton streams -> test on val and test -> score pickles ->
# fuse them (temperatures + weights fitted on val) -> per-stream and fused
# top-1 / macro-F1 and a MiGA submission.
#   bash tools/quickstart.sh
# DATA and WORK choose where data and outputs go; SEED the toy data's seed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${MMMG_VENV:-$ROOT/.venv}
DATA=${DATA:-data/toy_imigue}
WORK=${WORK:-work_dirs/quickstart}
SEED=${SEED:-0}
ANN=$DATA/annotations/imigue_mg36.pkl

bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
export PATH="$VENV/bin:$PATH"
PY="$VENV/bin/python"
start=$(date +%s)
step() { echo; echo "== [$(( $(date +%s) - start )) s] $*"; }

step "1/5 toy iMiGUE release -> $DATA/release"
"$PY" data_prep/make_toy_imigue.py --out "$DATA/release" --seed "$SEED" --overwrite
step "2/5 convert to MMAction2 pose annotations (36-point MG layout)"
"$PY" data_prep/imigue_to_mmaction.py "$DATA/release" --out "$DATA/annotations" \
    --layout mg36
for stream in joint limb; do
    config=configs/skeleton/posec3d/posec3d_slowonly_mg36_${stream}_toy.py
    step "3/5 train PoseConv3D ($stream) on CPU"
    "$PY" tools/train.py "$config" --work-dir "$WORK/$stream" \
        --cfg-options "train_dataloader.dataset.ann_file=$ANN" \
        "val_dataloader.dataset.ann_file=$ANN" \
        "test_dataloader.dataset.ann_file=$ANN"
    for split in val test; do
        step "4/5 test the last $stream checkpoint on $split, dump the score pickle"
        "$PY" tools/test.py "$config" "$(cat "$WORK/$stream/last_checkpoint")" \
            --work-dir "$WORK/$stream" --dump "$WORK/scores/${split}_$stream.pkl" \
            --stream "$stream" --cfg-options "test_dataloader.dataset.ann_file=$ANN" \
            "test_dataloader.dataset.split=$split"
    done
done
step "5/5 fuse joint + limb (temperatures and weights fitted on val), score test"
"$PY" tools/fuse_scores.py --search macro_f1 --out-dir "$WORK/fusion" \
    --val joint="$WORK/scores/val_joint.pkl" limb="$WORK/scores/val_limb.pkl" \
    --test joint="$WORK/scores/test_joint.pkl" limb="$WORK/scores/test_limb.pkl"
echo "quickstart done in $(( $(date +%s) - start )) s"
