"""Fusion weight search speed: a per-candidate loop against mmmg's batched
scoring, and the whole search, for the issue's size (8 streams x 5,000
samples x 32 classes).

Streams are synthetic: noisy logits around the true class, of increasing
quality, some over-confident. The per-candidate loop is what a notebook
does (fuse with numpy, argmax, score; one candidate at a time, F1 per
class); it runs on a subsample of the candidates and its time per
candidate is extrapolated. MMAction2 has no weight search, so the loop is
the baseline.

Usage::

    python benchmarks/bench_weight_search.py [--streams 8] [--samples 5000]
        [--classes 32] [--candidates 2000] [--repeats 3]
"""
import argparse
import time

import numpy as np

from mmmg.fusion.temperature import apply_temperature, fit_temperature
from mmmg.fusion.weight_search import evaluate_weights, search_weights


def synthetic_streams(rng, streams, samples, classes):
    labels = rng.integers(0, classes, samples)
    quality = np.linspace(0.6, 2.2, streams)
    sharp = np.where(np.arange(streams) % 3 == 0, 3., 1.)
    z = rng.normal(size=(streams, samples, classes))
    z[:, np.arange(samples), labels] += quality[:, None]
    z *= sharp[:, None, None]
    z -= z.max(-1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(-1, keepdims=True), labels


def loop_metric(stack, labels, w, metric):
    fused = sum(w[s] * stack[s] for s in range(len(w)))
    pred = fused.argmax(1)
    if metric == 'top1':
        return np.mean(pred == labels)
    f1s = []
    for c in range(stack.shape[2]):
        tp = np.sum((pred == c) & (labels == c))
        denom = np.sum(pred == c) + np.sum(labels == c)
        if denom:
            f1s.append(2 * tp / denom)
    return np.mean(f1s)


def best_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main():
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--streams', type=int, default=8)
    parser.add_argument('--samples', type=int, default=5000)
    parser.add_argument('--classes', type=int, default=32)
    parser.add_argument('--candidates', type=int, default=2000)
    parser.add_argument('--loop-candidates', type=int, default=50)
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    stack, labels = synthetic_streams(rng, args.streams, args.samples,
                                      args.classes)
    start = time.perf_counter()
    temps = [fit_temperature(p, labels) for p in stack]
    stack = np.stack([apply_temperature(p, t) for p, t in zip(stack, temps)])
    fit_s = time.perf_counter() - start
    print(f'{args.streams} streams x {args.samples} samples x {args.classes} '
          f'classes; temperatures fitted in {fit_s:.2f} s: ' +
          ' '.join(f'{t:.2f}' for t in temps))
    candidates = rng.dirichlet(np.ones(args.streams), size=args.candidates)
    print(f'\nscoring candidate weights, ms per candidate (best of '
          f'{args.repeats}; the loop on {args.loop_candidates} candidates)')
    print(f'{"metric":<10}{"loop":>10}{"mmmg":>10}{"speed-up":>10}')
    for metric in ('top1', 'macro_f1'):
        sub = candidates[:args.loop_candidates]
        loop_s, loop_values = best_time(
            lambda: [loop_metric(stack, labels, w, metric) for w in sub],
            args.repeats)
        ours_s, values = best_time(
            lambda: evaluate_weights(stack, labels, candidates, metric),
            args.repeats)
        assert np.allclose(loop_values, values[:len(sub)], atol=1e-4)
        loop_ms = 1e3 * loop_s / len(sub)
        ours_ms = 1e3 * ours_s / len(candidates)
        print(f'{metric:<10}{loop_ms:>10.2f}{ours_ms:>10.3f}'
              f'{loop_ms / ours_ms:>9.1f}x')

    print('\nwhole search (search_weights defaults), wall time')
    print(f'{"metric":<10}{"seconds":>9}{"searched":>10}{"equal w.":>10}'
          f'{"best one":>10}  (validation metric)')
    for metric in ('top1', 'macro_f1'):
        search_s, (weights, value) = best_time(
            lambda: search_weights(stack, labels, metric), 1)
        equal = evaluate_weights(stack, labels,
                                 np.full(args.streams, 1 / args.streams),
                                 metric)[0]
        single = evaluate_weights(stack, labels, np.eye(args.streams),
                                  metric).max()
        print(f'{metric:<10}{search_s:>9.2f}{value:>10.4f}{equal:>10.4f}'
              f'{single:>10.4f}')


if __name__ == '__main__':
    main()
