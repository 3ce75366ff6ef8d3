"""The fusion report: every stream and the fused result side by side, with
the weights and temperatures, as Markdown, JSON and a bar chart."""
import json
import os
import os.path as osp
from typing import Dict, List, Optional

import numpy as np

from mmmg.evaluation.functional import classification_report
from mmmg.utils import atomic_open
from .ensemble import Ensemble
from .temperature import nll

FUSED = 'fused'


def score_rows(stack: np.ndarray, labels: np.ndarray, fused: np.ndarray,
               ensemble: Ensemble) -> Optional[List[Dict]]:
    """Top-1, top-5, mean class accuracy, macro-F1 and NLL of each stream
    (as given, before its temperature) and of the fused scores, on the
    labelled samples; None when no sample is labelled."""
    known = labels >= 0
    if not known.any():
        return None
    rows = []
    names = list(ensemble.streams) + [FUSED]
    for name, probs in zip(names, list(stack) + [fused]):
        report = classification_report(probs[known], labels[known])
        rows.append(
            dict(
                stream=name,
                samples=int(known.sum()),
                top1=report['top1'],
                top5=report['top5'],
                mean1=report['mean1'],
                macro_f1=report['macro_f1'],
                nll=nll(probs[known], labels[known])))
    return rows


def build_report(ensemble: Ensemble,
                 splits: Dict[str, Optional[List[Dict]]],
                 outputs: Optional[Dict[str, str]] = None) -> dict:
    """The report's content: the ensemble and the scores of each split
    (``{'val': rows, 'test': rows or None}``)."""
    return dict(
        ensemble=ensemble.to_dict(),
        splits=dict(splits),
        outputs=dict(outputs or {}))


def format_markdown(report: dict) -> str:
    ensemble = report['ensemble']
    lines = ['# Score fusion', '']
    method = ('temperature-scaled soft voting' if ensemble['method']
              == 'temperature' else 'weighted mean of probabilities')
    how = (f'searched for validation {ensemble["metric"]} '
           f'({ensemble["val_metric"]:.4f})'
           if ensemble['metric'] else 'given')
    lines += [f'Method: {method}; weights {how}.', '']
    lines += ['| stream | weight | temperature |', '|---|---:|---:|']
    for name, w, t in zip(ensemble['streams'], ensemble['weights'],
                          ensemble['temperatures']):
        lines.append(f'| {name} | {w:.4f} | {t:.3f} |')
    for split, rows in report['splits'].items():
        lines += ['', f'## {split}', '']
        if rows is None:
            lines.append('No labelled samples.')
            continue
        lines += [
            f'{rows[0]["samples"]} labelled samples. NLL of each stream '
            'before its temperature.', '',
            '| stream | top-1 | top-5 | mean class acc. | macro-F1 | NLL |',
            '|---|---:|---:|---:|---:|---:|'
        ]
        for row in rows:
            name = f'**{row["stream"]}**' if row['stream'] == FUSED else \
                row['stream']
            lines.append(f'| {name} | {row["top1"]:.2%} | {row["top5"]:.2%} | '
                         f'{row["mean1"]:.2%} | {row["macro_f1"]:.2%} | '
                         f'{row["nll"]:.4f} |')
        if split == 'val' and ensemble['metric']:
            lines += [
                '', 'The weights were searched on these samples, so '
                'the fused validation scores are optimistic.'
            ]
    if report['outputs']:
        lines += ['', '## Files', '']
        lines += [f'- {k}: `{v}`' for k, v in report['outputs'].items()]
    return '\n'.join(lines) + '\n'


def format_table(rows: List[Dict]) -> str:
    """Plain-text table of a split's rows for the terminal."""
    width = max(len('stream'), *(len(r['stream']) for r in rows))
    lines = [
        f'{"stream":<{width}}  {"top-1":>7}  {"macro-F1":>8}  '
        f'{"top-5":>7}  {"mean-cls":>8}'
    ]
    for row in rows:
        lines.append(f'{row["stream"]:<{width}}  {row["top1"]:>7.2%}  '
                     f'{row["macro_f1"]:>8.2%}  {row["top5"]:>7.2%}  '
                     f'{row["mean1"]:>8.2%}')
    return '\n'.join(lines)


def save_bar_chart(path: str, report: dict) -> None:
    """Top-1 and macro-F1 of each stream and the fused scores, one panel
    per labelled split, fused bars highlighted."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    splits = [(k, v) for k, v in report['splits'].items() if v]
    if not splits:
        return
    num_streams = len(splits[0][1])
    fig = Figure(
        figsize=(max(5., 1.1 * num_streams + 2) * len(splits), 4.2), dpi=110)
    FigureCanvasAgg(fig)
    for i, (split, rows) in enumerate(splits):
        ax = fig.add_subplot(1, len(splits), i + 1)
        x = np.arange(len(rows))
        for offset, key, label, color in ((-0.2, 'top1', 'top-1', '#4c72b0'),
                                          (0.2, 'macro_f1', 'macro-F1',
                                           '#dd8452')):
            values = [100 * r[key] for r in rows]
            bars = ax.bar(x + offset, values, 0.4, label=label, color=color)
            bars[-1].set_edgecolor('black')
            bars[-1].set_linewidth(1.5)
            for bar, value in zip(bars, values):
                ax.text(
                    bar.get_x() + bar.get_width() / 2,
                    value + 0.5,
                    f'{value:.1f}',
                    ha='center',
                    va='bottom',
                    fontsize=7)
        ax.set_xticks(x)
        ax.set_xticklabels([r['stream'] for r in rows],
                           rotation=30,
                           ha='right')
        ax.set_ylim(0, 105)
        ax.set_ylabel('%')
        ax.set_title(f'{split} ({rows[0]["samples"]} samples)')
        ax.legend(loc='lower right', fontsize=8)
    fig.tight_layout()
    with atomic_open(path, 'wb') as f:
        fig.savefig(f, format='png')


def save_report(out_dir: str, report: dict, name: str = 'report') -> Dict:
    """Write ``{name}.md``, ``{name}.json`` and ``{name}.png`` (the chart
    only when some split is labelled); returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = {
        ext: osp.join(out_dir, f'{name}.{ext}')
        for ext in ('md', 'json', 'png')
    }
    with atomic_open(paths['md'], 'w') as f:
        f.write(format_markdown(report))
    with atomic_open(paths['json'], 'w') as f:
        json.dump(report, f, indent=2)
        f.write('\n')
    if any(report['splits'].values()):
        save_bar_chart(paths['png'], report)
    else:
        del paths['png']
    return paths
