#!/usr/bin/env bash
# Skeleton self-supervised learning and the five iMiGUE-3K protocols on the
# toy data, end to end on CPU:
#   toy release -> upper-body annotations -> SSL clips (facial-visibility
#   sampler, training videos) -> USDRL-style pre-training of the joint, bone
#   and motion encoders -> 1) linear probes (and a probe on a randomly
#   initialised encoder, which the pre-trained one must beat) -> 2) 10%
#   semi-supervised and 3) full fine-tuning -> joint+bone+motion fusion ->
#   4) training-free retrieval -> 5) win/lose emotion recognition (MIL).
#   bash tools/skeleton_ssl_demo.sh
# DATA and WORK choose where data and outputs go; an existing toy release in
# DATA is reused.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${MMMG_VENV:-$ROOT/.venv}
DATA=${DATA:-data/toy_imigue}
WORK=${WORK:-work_dirs/skeleton_ssl_demo}
ANN=$DATA/annotations/imigue_upper_body59.pkl
SSL=$DATA/annotations/ssl_upper_body59.pkl
CFG=configs/ssl/skeleton

bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
export PATH="$VENV/bin:$PATH"
PY="$VENV/bin/python"
start=$(date +%s)
step() { echo; echo "== [$(( $(date +%s) - start )) s] $*"; }

if [ ! -f "$DATA/release/toy_meta.json" ]; then
    step "toy iMiGUE release -> $DATA/release"
    "$PY" data_prep/make_toy_imigue.py --out "$DATA/release" --seed 0 --overwrite
fi
step "upper-body annotations, SSL clips of the training videos, outcomes"
"$PY" data_prep/imigue_to_mmaction.py "$DATA/release" --out "$DATA/annotations" \
    --layout upper_body59
# The toy's face points drop out frame by frame, so every clip is accepted.
"$PY" data_prep/sample_ssl_clips.py "$DATA/release" --splits train --threshold 0 \
    --out "$DATA/annotations/ssl_clips.txt" --cut-skeleton "$SSL" \
    --layout upper_body59 --no-progress
"$PY" data_prep/make_toy_outcomes.py "$ANN" --out "$DATA/annotations/outcomes.csv"

data=("train_dataloader.dataset.ann_file=$ANN" "val_dataloader.dataset.ann_file=$ANN"
      "test_dataloader.dataset.ann_file=$ANN")
test_split() {  # config checkpoint name split [cfg options...]
    local config=$1 ckpt=$2 name=$3 split=$4; shift 4
    "$PY" tools/test.py "$config" "$ckpt" --work-dir "$WORK/$name" \
        --dump "$WORK/scores/${split}_$name.pkl" --stream "$name" \
        --cfg-options "test_dataloader.dataset.ann_file=$ANN" \
        "test_dataloader.dataset.split=$split" "$@" > /dev/null
}
for stream in joint bone motion; do
    step "pre-train the $stream encoder (4 views, feature decorrelation)"
    "$PY" tools/train.py $CFG/usdrl_upper59_joint_pretrain_toy.py \
        --work-dir "$WORK/pretrain_$stream" --cfg-options \
        "model.backbone.stream=$stream" "train_dataloader.dataset.ann_file=$SSL"
    ckpt=$WORK/pretrain_$stream/epoch_20.pth
    step "1) linear probe on the frozen $stream encoder"
    opts=("model.backbone.stream=$stream" "model.backbone.init_cfg.checkpoint=$ckpt")
    "$PY" tools/train.py $CFG/linear_probe_upper59_joint_toy.py \
        --work-dir "$WORK/probe_$stream" --cfg-options "${data[@]}" "${opts[@]}"
    for split in val test; do
        test_split $CFG/linear_probe_upper59_joint_toy.py \
            "$(cat "$WORK/probe_$stream/last_checkpoint")" "probe_$stream" $split \
            "${opts[@]}"
    done
    # Retrieval and emotion recognition read the train and test features.
    for split in train test; do
        "$PY" tools/extract_features.py $CFG/linear_probe_upper59_joint_toy.py "$ckpt" \
            --split $split --out "$WORK/features/${stream}_$split.npz" --no-progress \
            --cfg-options "${data[@]}" "${opts[@]}"
    done
done
step "1) linear probe on a randomly initialised joint encoder (baseline)"
"$PY" tools/train.py $CFG/linear_probe_upper59_joint_toy.py --work-dir "$WORK/probe_random" \
    --cfg-options "${data[@]}" model.backbone.init_cfg=None
test_split $CFG/linear_probe_upper59_joint_toy.py \
    "$(cat "$WORK/probe_random/last_checkpoint")" probe_random test \
    model.backbone.init_cfg=None

ckpt=$WORK/pretrain_joint/epoch_20.pth
for protocol in semi10 finetune; do
    step "$([ $protocol = semi10 ] && echo 2\) semi-supervised, 10% of the labels || echo 3\) full fine-tuning) (joint)"
    "$PY" tools/train.py $CFG/${protocol}_upper59_joint_toy.py --work-dir "$WORK/$protocol" \
        --cfg-options "${data[@]}" "model.backbone.init_cfg.checkpoint=$ckpt"
    test_split $CFG/${protocol}_upper59_joint_toy.py "$(cat "$WORK/$protocol/last_checkpoint")" \
        $protocol test "model.backbone.init_cfg.checkpoint=$ckpt"
done

step "joint + bone + motion probes fused (temperatures and weights fitted on val)"
"$PY" tools/fuse_scores.py --out-dir "$WORK/fusion" \
    --val joint="$WORK/scores/val_probe_joint.pkl" bone="$WORK/scores/val_probe_bone.pkl" \
          motion="$WORK/scores/val_probe_motion.pkl" \
    --test joint="$WORK/scores/test_probe_joint.pkl" bone="$WORK/scores/test_probe_bone.pkl" \
           motion="$WORK/scores/test_probe_motion.pkl"

step "4) training-free retrieval: test queries in the training gallery"
for stream in joint bone motion; do
    echo -n "$stream: "
    "$PY" tools/retrieve.py --gallery "$WORK/features/${stream}_train.npz" \
        --query "$WORK/features/${stream}_test.npz" --out "$WORK/retrieval/$stream.json"
done

step "5) win/lose emotion recognition from frozen joint+bone+motion features (MIL)"
"$PY" tools/emotion_recognition.py --labels "$DATA/annotations/outcomes.csv" \
    --train "$WORK"/features/{joint,bone,motion}_train.npz \
    --test "$WORK"/features/{joint,bone,motion}_test.npz --out-dir "$WORK/emotion"

step "test top-1 of every protocol"
"$PY" tools/summarize_scores.py "$WORK"/scores/test_*.pkl "$WORK/fusion/fused_test.pkl"
"$PY" - "$WORK/scores/test_probe_joint.pkl" "$WORK/scores/test_probe_random.pkl" <<'PYEOF'
import os.path as osp
import sys
from mmmg.evaluation import label_vector, load_scores, score_matrix
top1 = []
for path in sys.argv[1:]:
    scores = load_scores(path)
    stream = osp.basename(path)[len('test_'):-len('.pkl')]
    s, y = score_matrix(scores, stream), label_vector(scores)
    top1.append(100 * float((s.argmax(1) == y).mean()))
print(f'linear probe, test top-1: pre-trained encoder {top1[0]:.2f}% | '
      f'random encoder {top1[1]:.2f}%')
if top1[0] <= top1[1]:
    sys.exit('error: the pre-trained encoder does not beat the random one')
PYEOF
echo "skeleton SSL demo done in $(( $(date +%s) - start )) s"
