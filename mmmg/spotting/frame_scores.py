"""Per-frame class posteriors from overlapping sliding-window scores."""
import numpy as np

WEIGHTINGS = ('uniform', 'triangular')


def windows_to_frame_scores(window_scores,
                            starts,
                            ends,
                            num_frames: int,
                            weighting: str = 'uniform') -> np.ndarray:
    """Average the class scores of every window covering each frame.

    Args:
        window_scores (array): ``(W, C)`` class probabilities, one row per
            window.
        starts (array): ``(W,)`` first frame of each window.
        ends (array): ``(W,)`` frame after the last one of each window
            (exclusive); ``0 <= start < end <= num_frames``. A window padded
            past the end of the video is passed with ``end = num_frames``.
        num_frames (int): Frames of the video.
        weighting (str): ``'uniform'``: every frame of a window counts the
            window once. ``'triangular'``: a window counts
            ``min(t - start + 1, end - t)`` at frame ``t``, so frames near
            its centre, which the window sees in full context, weigh more
            than its edges.

    Returns:
        np.ndarray: ``(num_frames, C)`` float64 weighted means; rows of
        frames that no window covers are NaN.
    """
    scores = np.asarray(window_scores, dtype=np.float64)
    starts = np.asarray(starts)
    ends = np.asarray(ends)
    if weighting not in WEIGHTINGS:
        raise ValueError(f'weighting {weighting!r} is not one of '
                         f'{WEIGHTINGS}')
    if scores.ndim != 2:
        raise ValueError(f'window_scores must be (W, C), got shape '
                         f'{scores.shape}')
    num_windows = len(scores)
    if starts.shape != (num_windows, ) or ends.shape != (num_windows, ):
        raise ValueError(f'starts {starts.shape} and ends {ends.shape} must '
                         f'be ({num_windows},), one per window')
    if num_windows and not (np.issubdtype(starts.dtype, np.integer)
                            and np.issubdtype(ends.dtype, np.integer)):
        raise ValueError('window starts and ends must be integer frames')
    if not np.isfinite(scores).all():
        bad = int(np.flatnonzero(~np.isfinite(scores).all(axis=1))[0])
        raise ValueError(f'window {bad} ({starts[bad]}-{ends[bad]}) has a '
                         'non-finite score')
    bad = np.flatnonzero((starts < 0) | (ends <= starts) | (ends > num_frames))
    if len(bad):
        i = int(bad[0])
        raise ValueError(
            f'window {i} covers frames {starts[i]}-{ends[i]} (end '
            f'exclusive), not a non-empty range inside the '
            f'{num_frames} frames of the video')

    if weighting == 'uniform':
        # Difference arrays: +score at the start, -score at the end.
        def diff(values):
            return (np.bincount(starts, values, num_frames + 1) -
                    np.bincount(ends, values, num_frames + 1))[:-1]

        total = np.cumsum(
            np.stack([diff(col) for col in scores.T], axis=1), axis=0)
        weight = np.cumsum(diff(np.ones(num_windows)))
    else:
        total = np.zeros((num_frames, scores.shape[1]))
        weight = np.zeros(num_frames)
        for row, start, end in zip(scores, starts, ends):
            t = np.arange(start, end)
            w = np.minimum(t - start + 1, end - t).astype(np.float64)
            total[start:end] += w[:, None] * row
            weight[start:end] += w
    covered = weight > 0
    frame_scores = np.full(total.shape, np.nan)
    frame_scores[covered] = total[covered] / weight[covered, None]
    return frame_scores
