"""Long-tail options side by side: the same small PoseConv3D (joint, MG-36)
trained on the long-tailed toy iMiGUE split with each option of
``configs/long_tail``, then tested; prints top-1, mean class accuracy and
macro-F1 per option.

A second table shows gap filling on the plain joint stream: the same config
trained and tested on an annotation converted with ``--fill-gaps 5``, next
to the unfilled one, with the keypoints the toy's dropouts hide in the clips
and how many of them the filling restores. The converter's option is the one
measured, not the ``FillKeypointGaps`` transform, because it is what a user
runs once: it fills whole videos, so a gap at a clip's edge is bridged from
the frames around the clip, and training pays nothing per sample.

Usage::

    python data_prep/make_toy_imigue.py --out data/toy_imigue/release --seed 0
    python data_prep/imigue_to_mmaction.py data/toy_imigue/release \\
        --out data/toy_imigue/annotations --layout mg36
    python data_prep/imigue_to_mmaction.py data/toy_imigue/release \\
        --out data/toy_imigue/annotations_filled --layout mg36 --fill-gaps 5
    python benchmarks/bench_long_tail.py [--work-dir work_dirs/bench_long_tail]

The label-embedding option needs class text vectors; none ship with the
toy data, so seeded random 300-d vectors (norm about 5, like word vectors)
stand in, which measures the loss's mechanics, not semantic transfer.
Training is seeded by the configs (``randomness=dict(seed=0)``).
Runs are resumable: an option whose score pickle exists is not retrained,
so options can be trained by separate runs (``--only``) and the tables
printed by a last run over all of them.
"""
import argparse
import os
import os.path as osp
import pickle
import subprocess
import sys
from typing import NamedTuple, Tuple

import numpy as np

from mmmg.evaluation import label_vector, load_scores, score_matrix
from mmmg.evaluation.metrics.classification import classification_report

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PLAIN = 'configs/skeleton/posec3d/posec3d_slowonly_mg36_joint_toy.py'
LONG_TAIL = 'configs/long_tail/posec3d_mg36_joint_toy_'


class Option(NamedTuple):
    config: str
    # Extra --cfg-options and a suffix for its run's folder and scores.
    cfg_options: Tuple[str, ...] = ()
    suffix: str = ''
    # Trained and tested on the --filled-ann annotation.
    filled: bool = False

    @property
    def slug(self):
        return osp.splitext(osp.basename(self.config))[0] + self.suffix


OPTIONS = {
    'plain CE':
    Option(PLAIN),
    'sqrt class weights':
    Option(LONG_TAIL + 'sqrt_weights.py'),
    'orthogonal semantic emb.':
    Option(LONG_TAIL + 'semantic_embedding.py'),
    'label embedding':
    Option(LONG_TAIL + 'label_embedding.py'),
    'prototype refinement':
    Option(LONG_TAIL + 'prototype.py'),
    'class-balanced p=0.5':
    Option(LONG_TAIL + 'class_balanced.py'),
    'class-balanced p=1':
    Option(
        LONG_TAIL + 'class_balanced.py',
        ('train_dataloader.sampler.power=1', ),
        suffix='_p1'),
    'class-bal. p=0.5 + sqrt w.':
    Option(LONG_TAIL + 'class_balanced_sqrt_weights.py'),
    'plain CE, gaps filled':
    Option(PLAIN, suffix='_filled', filled=True),
}


def run(args, cwd=REPO):
    subprocess.run(
        [sys.executable] + args,
        cwd=cwd,
        check=True,
        stdout=subprocess.DEVNULL)


def _annotation(path, flag):
    ann = osp.join(REPO, path)
    if not osp.isfile(ann):
        raise SystemExit(f'error: {flag} {path} not found; see the usage '
                         'above')
    return ann


def _train_and_test(option, ann, work, vectors):
    """The option's score pickle, trained and tested unless it exists."""
    out = osp.join(work, 'scores', f'{option.slug}.pkl')
    if osp.exists(out):
        return out
    opts = ['--cfg-options'] + [
        f'{loader}_dataloader.dataset.ann_file={ann}'
        for loader in ('train', 'val', 'test')
    ] + list(option.cfg_options)
    if 'weights' in option.config or 'semantic' in option.config:
        # Class weights count the training split of their own ann_file.
        opts.append(f'model.cls_head.loss_cls.class_weight.ann_file={ann}')
    if 'label_embedding' in option.config:
        opts.append(f'model.cls_head.embedding_file={vectors}')
    run_dir = osp.join(work, option.slug)
    print(f'training {option.slug} ({option.config}) ...', flush=True)
    run(['tools/train.py', option.config, '--work-dir', run_dir] + opts)
    with open(osp.join(run_dir, 'last_checkpoint')) as f:
        ckpt = f.read().strip()
    run([
        'tools/test.py', option.config, ckpt, '--work-dir', run_dir, '--dump',
        out, '--stream', option.slug
    ] + opts)
    return out


def _report(scores_file):
    scores = load_scores(scores_file)
    return classification_report(
        score_matrix(scores, scores['streams'][0]), label_vector(scores))


def missing_points(ann):
    """``(missing, total)`` point-frames over every clip of a pose pickle:
    a point is missing where its confidence is 0, as the converter writes
    a point the release does not hold."""
    with open(ann, 'rb') as f:
        clips = pickle.load(f)['annotations']
    scores = [clip['keypoint_score'] for clip in clips]
    return (sum(int((s <= 0).sum())
                for s in scores), sum(s.size for s in scores))


def _print_table(rows):
    print(f'\n{"option":28s} {"top-1":>7s} {"mean cls":>9s} {"macro-F1":>9s}')
    for name, r in rows:
        print(f'{name:28s} {100 * r["top1"]:6.2f}% {100 * r["mean1"]:8.2f}% '
              f'{100 * r["macro_f1"]:8.2f}%')


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--work-dir', default='work_dirs/bench_long_tail')
    parser.add_argument(
        '--ann', default='data/toy_imigue/annotations/imigue_mg36.pkl')
    parser.add_argument(
        '--filled-ann',
        default='data/toy_imigue/annotations_filled/imigue_mg36.pkl',
        help='the same release converted with --fill-gaps (read only by '
        'the gap-filling option)')
    parser.add_argument(
        '--only',
        nargs='+',
        choices=list(OPTIONS),
        metavar='OPTION',
        help=f'train and report these options only ({", ".join(OPTIONS)})')
    args = parser.parse_args(argv)
    names = [n for n in OPTIONS if not args.only or n in args.only]
    ann = _annotation(args.ann, '--ann')
    if any(OPTIONS[n].filled for n in names):
        filled_ann = _annotation(args.filled_ann, '--filled-ann')
    work = osp.join(REPO, args.work_dir)
    os.makedirs(work, exist_ok=True)
    vectors = osp.join(work, 'random_label_vectors.npy')
    if not osp.exists(vectors):
        rng = np.random.default_rng(0)
        np.save(vectors, rng.normal(0, 5 / np.sqrt(300), (32, 300)))

    reports = {}
    for name in names:
        option = OPTIONS[name]
        scores = _train_and_test(option, filled_ann if option.filled else ann,
                                 work, vectors)
        reports[name] = _report(scores)

    rows = [(n, r) for n, r in reports.items() if not OPTIONS[n].filled]
    if rows:
        _print_table(rows)
    gap_rows = [(n, r) for n, r in reports.items() if OPTIONS[n].filled]
    if gap_rows:
        print(f'\ngap filling ({args.filled_ann}):')
        hidden, total = missing_points(ann)
        left, filled_total = missing_points(filled_ann)
        if filled_total != total:
            raise SystemExit(f'error: {args.ann} and {args.filled_ann} hold '
                             'different clips; convert the same release')
        print(f'  point-frames in the clips: {total}; missing (dropouts) '
              f'{hidden} ({100 * hidden / total:.2f}%); restored by the '
              f'filling {hidden - left} ({100 * (hidden - left) / total:.2f}'
              f'% of all, {100 * (hidden - left) / max(hidden, 1):.1f}% of '
              'the missing)')
        if 'plain CE' in reports:
            gap_rows.insert(0, ('plain CE, no filling', reports['plain CE']))
        _print_table(gap_rows)


if __name__ == '__main__':
    main()
