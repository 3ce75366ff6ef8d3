"""Metric that writes the mmmg score pickle of a test run."""
from typing import Any, Optional, Sequence

import numpy as np
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from ..predictions import sample_label, sample_streams
from ..score_file import (build_score_file, label_vector, save_scores,
                          with_checkpoint_digest)


@METRICS.register_module()
class DumpMGScores(BaseMetric):
    """Save per-sample class probabilities as an mmmg score pickle.

    Every record carries the sample id (``sample_id`` in the metainfo, see
    ``PackMGInputs``), the label when known and the clip-averaged
    probabilities of each stream. Under distributed testing the collected
    results hold each sample once; the file is written by rank 0 only.

    Args:
        out_file (str): Output ``.pkl`` path.
        stream (str): Name of the stream of single-stream models.
        meta (dict, optional): Provenance stored in the file.
    """
    default_prefix = 'dump'

    def __init__(self,
                 out_file: str,
                 stream: str = 'score',
                 meta: Optional[dict] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not out_file.endswith(('.pkl', '.pickle')):
            raise ValueError(f'score file must end in .pkl, got {out_file!r}')
        self.out_file = out_file
        self.stream = stream
        self.meta = meta

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'sample_id' not in sample:
                raise KeyError(
                    'model output has no sample_id: use MGPoseDataset (or '
                    'another mmmg dataset) and PackMGInputs in the test '
                    'pipeline')
            streams = sample_streams(sample, self.stream)
            for name, prob in streams.items():
                if prob.min() < -1e-6 or abs(prob.sum() - 1) > 1e-3:
                    raise ValueError(
                        f'sample {sample["sample_id"]!r} stream {name!r}: '
                        'scores are not probabilities; set the head\'s '
                        "average_clips='prob'")
            self.results.append(
                dict(
                    id=sample['sample_id'],
                    label=sample_label(sample),
                    scores=streams))

    def compute_metrics(self, results: list) -> dict:
        classes = (self.dataset_meta or {}).get('classes')
        score_file = build_score_file(
            results,
            classes=classes,
            meta=with_checkpoint_digest(self.meta),
            source=self.out_file)
        save_scores(self.out_file, score_file)
        streams = ', '.join(score_file['streams'])
        MMLogger.get_current_instance().info(
            f'{len(results)} sample scores ({streams}) written to '
            f'{self.out_file}')
        labels = label_vector(score_file)
        known = labels >= 0
        if not known.any():
            return {}
        metrics = {}
        for stream in score_file['streams']:
            pred = np.stack(
                [s['scores'][stream] for s in score_file['samples']]).argmax(1)
            metrics[f'{stream}_top1'] = float(
                (pred[known] == labels[known]).mean())
        return metrics
