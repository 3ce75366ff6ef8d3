"""Long-tail options side by side: the same small PoseConv3D (joint, MG-36)
trained on the long-tailed toy iMiGUE split with each option of
``configs/long_tail``, then tested; prints top-1, mean class accuracy and
macro-F1 per option.

Usage::

    python data_prep/make_toy_imigue.py --out data/toy_imigue/release --seed 0
    python data_prep/imigue_to_mmaction.py data/toy_imigue/release \\
        --out data/toy_imigue/annotations --layout mg36
    python benchmarks/bench_long_tail.py [--work-dir work_dirs/bench_long_tail]

The label-embedding option needs class text vectors; none ship with the
toy data, so seeded random 300-d vectors (norm about 5, like word vectors)
stand in, which measures the loss's mechanics, not semantic transfer.
Training is seeded by the configs (``randomness=dict(seed=0)``).
Runs are resumable: an option whose score pickle exists is not retrained,
so options can be trained by separate runs (``--only``) and the table
printed by a last run over all of them.
"""
import argparse
import os
import os.path as osp
import subprocess
import sys

import numpy as np

from mmmg.evaluation import label_vector, load_scores, score_matrix
from mmmg.evaluation.metrics.classification import classification_report

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
OPTIONS = {
    'plain CE':
    'configs/skeleton/posec3d/posec3d_slowonly_mg36_joint_toy.py',
    'sqrt class weights':
    'configs/long_tail/'
    'posec3d_mg36_joint_toy_sqrt_weights.py',
    'orthogonal semantic emb.':
    'configs/long_tail/'
    'posec3d_mg36_joint_toy_semantic_embedding.py',
    'label embedding':
    'configs/long_tail/'
    'posec3d_mg36_joint_toy_label_embedding.py',
    'prototype refinement':
    'configs/long_tail/'
    'posec3d_mg36_joint_toy_prototype.py',
}


def run(args, cwd=REPO):
    subprocess.run(
        [sys.executable] + args,
        cwd=cwd,
        check=True,
        stdout=subprocess.DEVNULL)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--work-dir', default='work_dirs/bench_long_tail')
    parser.add_argument(
        '--ann', default='data/toy_imigue/annotations/'
        'imigue_mg36.pkl')
    parser.add_argument(
        '--only',
        nargs='+',
        choices=list(OPTIONS),
        metavar='OPTION',
        help=f'train and report these options only ({", ".join(OPTIONS)})')
    args = parser.parse_args(argv)
    ann = osp.join(REPO, args.ann)
    if not osp.isfile(ann):
        raise SystemExit(f'error: {args.ann} not found; see the usage above')
    data = [
        f'{loader}_dataloader.dataset.ann_file={ann}'
        for loader in ('train', 'val', 'test')
    ]
    work = osp.join(REPO, args.work_dir)
    os.makedirs(work, exist_ok=True)
    vectors = osp.join(work, 'random_label_vectors.npy')
    rng = np.random.default_rng(0)
    np.save(vectors, rng.normal(0, 5 / np.sqrt(300), (32, 300)))

    rows = []
    for name, config in OPTIONS.items():
        if args.only and name not in args.only:
            continue
        slug = osp.splitext(osp.basename(config))[0]
        out = osp.join(work, 'scores', f'{slug}.pkl')
        opts = ['--cfg-options'] + data
        if 'weights' in config or 'semantic' in config:
            # Class weights count the training split of their own ann_file.
            opts.append(f'model.cls_head.loss_cls.class_weight.ann_file={ann}')
        if 'label_embedding' in config:
            opts.append(f'model.cls_head.embedding_file={vectors}')
        if not osp.exists(out):
            print(f'training {name} ({config}) ...', flush=True)
            run(['tools/train.py', config, '--work-dir',
                 osp.join(work, slug)] + opts)
            with open(osp.join(work, slug, 'last_checkpoint')) as f:
                ckpt = f.read().strip()
            run([
                'tools/test.py', config, ckpt, '--work-dir',
                osp.join(work, slug), '--dump', out, '--stream', slug
            ] + opts)
        scores = load_scores(out)
        labels = label_vector(scores)
        report = classification_report(
            score_matrix(scores, scores['streams'][0]), labels)
        rows.append((name, report))

    print(f'\n{"option":28s} {"top-1":>7s} {"mean cls":>9s} {"macro-F1":>9s}')
    for name, r in rows:
        print(f'{name:28s} {100 * r["top1"]:6.2f}% {100 * r["mean1"]:8.2f}% '
              f'{100 * r["macro_f1"]:8.2f}%')


if __name__ == '__main__':
    main()
