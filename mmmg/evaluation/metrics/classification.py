"""Classification report of a validation / test run: accuracies, macro-F1,
per-class precision / recall / F1 and a confusion matrix on disk."""
import csv
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmmg.utils import atomic_open
from ..functional import classification_report
from ..predictions import sample_label, sample_streams


def format_table(per_class: dict, classes: Sequence[str]) -> str:
    """A plain-text table of the per-class scores for the log."""
    width = max([len('class')] + [len(c) for c in classes])
    head = (f'{"id":>3}  {"class":<{width}}  {"support":>7}  '
            f'{"predicted":>9}  {"precision":>9}  {"recall":>6}  {"f1":>6}')
    lines = [head, '-' * len(head)]
    for k, name in enumerate(classes):
        lines.append(
            f'{k:>3}  {name:<{width}}  {per_class["support"][k]:>7d}  '
            f'{per_class["predicted"][k]:>9d}  '
            f'{per_class["precision"][k]:>9.4f}  '
            f'{per_class["recall"][k]:>6.4f}  {per_class["f1"][k]:>6.4f}')
    return '\n'.join(lines)


def save_confusion_csv(path: str, cm: np.ndarray,
                       classes: Sequence[str]) -> None:
    """Counts with true classes as rows and predictions as columns."""
    with atomic_open(path, 'w') as f:
        writer = csv.writer(f, lineterminator='\n')
        writer.writerow(['true \\ predicted'] + list(classes))
        for name, row in zip(classes, cm):
            writer.writerow([name] + [int(v) for v in row])


def save_per_class_csv(path: str, per_class: dict,
                       classes: Sequence[str]) -> None:
    with atomic_open(path, 'w') as f:
        writer = csv.writer(f, lineterminator='\n')
        writer.writerow([
            'id', 'class', 'support', 'predicted', 'precision', 'recall', 'f1'
        ])
        for k, name in enumerate(classes):
            writer.writerow([
                k, name,
                int(per_class['support'][k]),
                int(per_class['predicted'][k]),
                f'{per_class["precision"][k]:.6f}',
                f'{per_class["recall"][k]:.6f}', f'{per_class["f1"][k]:.6f}'
            ])


def normalise_rows(cm: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (the recall view); empty rows stay 0."""
    sums = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, sums, out=np.zeros(cm.shape), where=sums > 0)


def save_confusion_png(path: str, cm: np.ndarray, classes: Sequence[str],
                       title: str) -> None:
    """Row-normalised confusion matrix as a heat map with class names.

    Drawn on a bare ``Figure`` with the Agg canvas, which needs no display
    and leaves pyplot's global backend of the calling process alone.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = len(classes)
    norm = normalise_rows(cm)
    # ~0.3 inch per class keeps 32 names legible at 7 pt.
    side = max(4., 0.3 * n + 3.)
    fig = Figure(figsize=(side + 1.5, side), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(
        norm, cmap='Blues', vmin=0, vmax=1, interpolation='nearest')
    fig.colorbar(
        image,
        ax=ax,
        fraction=0.046,
        pad=0.02,
        label='share of the true class (cells in %)')
    ticks = np.arange(n)
    names = [f'{k} {name}' for k, name in enumerate(classes)]
    fontsize = 7 if n > 12 else 9
    ax.set_xticks(ticks)
    ax.set_xticklabels(names, rotation=90, fontsize=fontsize)
    ax.set_yticks(ticks)
    ax.set_yticklabels(names, fontsize=fontsize)
    ax.set_xlabel('predicted class')
    ax.set_ylabel('true class')
    ax.set_title(title, fontsize=fontsize + 2)
    # Percentages in the non-empty cells; white on dark cells.
    for t, p in zip(*np.nonzero(cm)):
        value = norm[t, p]
        ax.text(
            p,
            t,
            f'{100 * value:.0f}',
            ha='center',
            va='center',
            fontsize=fontsize - 1.5,
            color='white' if value > 0.5 else 'black')
    fig.tight_layout()
    with atomic_open(path, 'wb') as f:
        fig.savefig(f, format='png')


@METRICS.register_module()
class MGClassificationMetric(BaseMetric):
    """Top-1/top-5, mean class accuracy, macro-F1 and per-class scores, with
    the confusion matrix written to disk.

    Each stream of the model output is scored on its own (``pred_scores``
    ``{'item': ...}`` of single-stream heads, or one key per stream, such as
    RGBPoseConv3D's ``rgb`` / ``pose``; MMAction2 1.2.0's ``pred_score``
    too). A multi-stream output is also scored as ``fused``, the plain sum
    of its streams' scores (AccMetric's 1:1 fusion). Returned keys are
    ``top1``, ``top5``, ``mean1``, ``macro_f1`` for a single stream and
    ``<stream>_top1``... otherwise, under the prefix ``mg/``.

    The per-class table (class names from ``dataset_meta['classes']`` when
    the dataset has them, else indices) goes to the log. Samples with a
    hidden label (-1, as in challenge test lists) are skipped, and the log
    says how many.

    **Files.** For every stream, ``<prefix>_confusion_matrix[_<stream>].csv``
    (counts, true classes as rows), ``.png`` (rows normalised to 1, class
    names on both axes) and ``<prefix>_per_class[_<stream>].csv`` are
    written atomically to ``out_dir``. BaseMetric has no handle on the
    runner, so by default (``out_dir=None``) the directory is the one of
    the current ``MMLogger``'s log file: the runner creates that logger with
    ``<work_dir>/<timestamp>/<timestamp>.log``, so the files land next to
    the run's log and ``vis_data`` and one run never overwrites another's.
    Only rank 0 computes metrics, and rank 0's logger always has the file.
    Without a runner (no log file) and no ``out_dir`` nothing is written.
    Validation during training overwrites the files at every evaluation, so
    they show the latest one.

    Args:
        topk (tuple[int]): Top-k accuracies to report. Defaults to (1, 5).
        out_dir (str, optional): Where to write the files; None means the
            run's log directory (see above). Defaults to None.
        save_files (bool): Write the CSV/PNG files. Defaults to True.
        fuse_streams (bool): Also score the sum of multiple streams.
            Defaults to True.
        collect_device (str): Device for collecting results across ranks.
        prefix (str, optional): Metric name prefix; also starts the file
            names. Defaults to ``'mg'``.
    """
    default_prefix = 'mg'

    def __init__(self,
                 topk: Tuple[int, ...] = (1, 5),
                 out_dir: Optional[str] = None,
                 save_files: bool = True,
                 fuse_streams: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        topk = (topk, ) if isinstance(topk, int) else tuple(topk)
        if not topk or any(int(k) != k or k < 1 for k in topk):
            raise ValueError(f'topk must be positive integers, got {topk}')
        self.topk = topk
        self.out_dir = out_dir
        self.save_files = save_files
        self.fuse_streams = fuse_streams

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep each sample's per-stream scores (numpy) and label (-1 when
        hidden)."""
        for sample in data_samples:
            streams = sample_streams(sample, 'item')
            label = sample_label(sample)
            self.results.append(
                dict(
                    scores={
                        k: v.astype(np.float32).reshape(-1)
                        for k, v in streams.items()
                    },
                    label=-1 if label is None else label))

    def _class_names(self, num_classes: int) -> List[str]:
        classes = (self.dataset_meta or {}).get('classes')
        if classes is None:
            return [str(k) for k in range(num_classes)]
        if len(classes) != num_classes:
            raise ValueError(
                f'dataset_meta has {len(classes)} classes but the model '
                f'scores {num_classes}; check num_classes of the head')
        return [str(c) for c in classes]

    def _resolve_out_dir(self) -> Optional[str]:
        if not self.save_files:
            return None
        if self.out_dir is not None:
            return self.out_dir
        log_file = getattr(MMLogger.get_current_instance(), 'log_file', None)
        return osp.dirname(osp.abspath(log_file)) if log_file else None

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Score every stream; log the tables; write the files."""
        logger = MMLogger.get_current_instance()
        known = [r for r in results if r['label'] >= 0]
        hidden = len(results) - len(known)
        if hidden:
            logger.info(f'{self.__class__.__name__}: skipped {hidden} of '
                        f'{len(results)} samples with hidden labels (-1)')
        if not known:
            logger.info(f'{self.__class__.__name__}: no labelled samples, '
                        'nothing to score')
            return {}
        names = sorted(known[0]['scores'])
        labels = np.array([r['label'] for r in known])
        streams = {
            name: np.stack([r['scores'][name] for r in known])
            for name in names
        }
        if self.fuse_streams and len(streams) > 1:
            streams['fused'] = sum(streams[name] for name in names)
        num_classes = streams[names[0]].shape[1]
        if labels.max() >= num_classes:
            raise ValueError(f'label {labels.max()} is out of range for '
                             f'{num_classes} scored classes')
        classes = self._class_names(num_classes)
        out_dir = self._resolve_out_dir()
        prefix = self.prefix or self.default_prefix
        metrics = {}
        for name, scores in streams.items():
            single = name == 'item'
            report = classification_report(scores, labels, self.topk)
            key = '' if single else f'{name}_'
            for k in self.topk:
                metrics[f'{key}top{k}'] = report[f'top{k}']
            metrics[f'{key}mean1'] = report['mean1']
            metrics[f'{key}macro_f1'] = report['macro_f1']
            label = '' if single else f'stream {name!r}: '
            logger.info(f'Per-class results, {label}{len(labels)} samples:\n' +
                        format_table(report['per_class'], classes))
            if out_dir is not None:
                suffix = '' if single else f'_{name}'
                title = label + (f'top-1 {100 * report["top1"]:.2f}%, '
                                 if 'top1' in report else '')
                title += (f'macro-F1 {100 * report["macro_f1"]:.2f}%, '
                          f'{len(labels)} samples')
                self._save(out_dir, f'{prefix}_', suffix, report, classes,
                           title)
        return metrics

    def _save(self, out_dir: str, prefix: str, suffix: str, report: dict,
              classes: List[str], title: str) -> None:
        os.makedirs(out_dir, exist_ok=True)
        base = osp.join(out_dir, f'{prefix}confusion_matrix{suffix}')
        save_confusion_csv(f'{base}.csv', report['confusion'], classes)
        save_confusion_png(f'{base}.png', report['confusion'], classes, title)
        per_class = osp.join(out_dir, f'{prefix}per_class{suffix}.csv')
        save_per_class_csv(per_class, report['per_class'], classes)
        MMLogger.get_current_instance().info(
            f'confusion matrix written to {base}.csv / .png, per-class '
            f'scores to {per_class}')
