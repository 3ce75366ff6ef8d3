#!/usr/bin/env bash
# End to end on the toy data: install -> generate -> convert -> train the
# joint and limb skeleton streams -> test -> score pickles -> accuracy.
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
    step "4/5 test the last $stream checkpoint, dump the score pickle"
    "$PY" tools/test.py "$config" "$(cat "$WORK/$stream/last_checkpoint")" \
        --work-dir "$WORK/$stream" --dump "$WORK/scores/$stream.pkl" \
        --stream "$stream" --cfg-options "test_dataloader.dataset.ann_file=$ANN"
done
step "5/5 accuracy on the toy test split (32 classes)"
"$PY" tools/summarize_scores.py "$WORK/scores/joint.pkl" "$WORK/scores/limb.pkl"
echo "quickstart done in $(( $(date +%s) - start )) s"
