"""Training-free MG retrieval: every query clip (e.g. the test split) against
a gallery (e.g. the training split) by the cosine similarity of encoder
features; top-1 / top-5 retrieval accuracy (iMiGUE-3K protocol 4).

Examples:
    python tools/retrieve.py --gallery feats/joint_train.npz \\
        --query feats/joint_test.npz --out work_dirs/retrieval/joint.json
"""
import argparse
import json
import os
import os.path as osp

from mmmg.evaluation.features import FeatureFileError, load_features
from mmmg.evaluation.retrieval import cosine_neighbours, retrieval_accuracy
from mmmg.utils.cli import (ToolError, add_debug_arg, check_output_file,
                            cli_main)
from mmmg.utils.io import atomic_open


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--gallery', required=True, help='feature file')
    parser.add_argument('--query', required=True, help='feature file')
    parser.add_argument('--topk', type=int, nargs='+', default=[1, 5])
    parser.add_argument('--out', help='write metrics and neighbours (JSON)')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.out:
        check_output_file(args.out, '--out')
    try:
        gallery, query = load_features(args.gallery), load_features(args.query)
    except FeatureFileError as e:
        raise ToolError(e) from e
    labelled = query['labels'] >= 0
    if not labelled.any():
        raise ToolError(f'{args.query} has no labelled query; pass the '
                        'features of a labelled split as --query')
    neighbours = cosine_neighbours(query['features'][labelled],
                                   gallery['features'], max(args.topk))
    metrics = retrieval_accuracy(query['labels'][labelled], gallery['labels'],
                                 neighbours, args.topk)
    line = '  '.join(f'top-{k} {100 * metrics[f"top{k}"]:.2f}%'
                     for k in args.topk)
    print(f'{labelled.sum()} queries, {len(gallery["labels"])} gallery '
          f'clips: {line}')
    if args.out:
        ids = gallery['sample_ids']
        result = dict(
            metrics,
            queries=int(labelled.sum()),
            gallery=len(ids),
            neighbours={
                q: ids[n].tolist()
                for q, n in zip(query['sample_ids'][labelled].tolist(),
                                neighbours)
            })
        os.makedirs(osp.dirname(args.out) or '.', exist_ok=True)
        with atomic_open(args.out, 'w') as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == '__main__':
    cli_main(main)
