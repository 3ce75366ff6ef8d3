#!/usr/bin/env bash
# Usage: [GPUS_PER_TASK=1 CPUS_PER_TASK=4 MAX_RUNNING=0 SBATCH_ARGS=...] \
#        tools/extract_pose_slurm.sh PARTITION JOB_NAME TASKS [extract args...]
# Submits a SLURM job array of TASKS tasks running
# `tools/extract_pose.py extract`; each task takes its shard of the videos
# from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT. Resubmitting resumes:
# finished videos are skipped. Pass --device cuda to use the task's GPU.
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 PARTITION JOB_NAME TASKS [extract args...]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
TASKS=$3
if ! [[ "$TASKS" =~ ^[1-9][0-9]*$ ]]; then
    echo "TASKS must be a positive integer, got '$TASKS'" >&2
    exit 2
fi
GPUS_PER_TASK=${GPUS_PER_TASK:-1}
CPUS_PER_TASK=${CPUS_PER_TASK:-4}
MAX_RUNNING=${MAX_RUNNING:-0}  # 0: no limit on simultaneous tasks
SBATCH_ARGS=${SBATCH_ARGS:-}
TOOLS=$(cd "$(dirname "$0")" && pwd)

ARRAY="0-$((TASKS - 1))"
if [ "$MAX_RUNNING" -gt 0 ]; then
    ARRAY="$ARRAY%$MAX_RUNNING"
fi
GRES=()
if [ "$GPUS_PER_TASK" -gt 0 ]; then
    GRES=(--gres="gpu:$GPUS_PER_TASK")
fi
# The batch script is a copy run elsewhere: quote the command into it.
COMMAND=$(printf '%q ' python -u "$TOOLS/extract_pose.py" extract "${@:4}")

# shellcheck disable=SC2086
exec sbatch -p "$PARTITION" --job-name="$JOB_NAME" --array="$ARRAY" \
    --ntasks=1 --cpus-per-task="$CPUS_PER_TASK" "${GRES[@]}" \
    --output="${JOB_NAME}_%A_%a.log" $SBATCH_ARGS --wrap "$COMMAND"
