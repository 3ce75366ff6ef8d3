"""A deterministic toy dataset in the layout of the MiGA / iMiGUE release.

The real iMiGUE data needs a licence, so tests, docs and CI run on this
stand-in: seated interviewees drawn as simple shapes, long videos cut into
labelled micro-gesture segments, and per-frame OpenPose-137 keypoints of the
same geometry with detector-like noise (jitter, single points missed for
runs of 1-8 frames as OpenPose's are, hand dropouts, face points hidden by a
touching hand).

It is meant to be hard in the ways iMiGUE is, so that figures measured on it
mean something: every clip of a class differs (size, tempo, duration, onset,
hand used), subjects differ in build, posture and habits (so the
subject-disjoint splits test generalisation), classes come in confusable
families (a hand to the ears, face, chin, neck or hair differs only in where
the hand goes; turtle neck, deep breath, head up and shaking shoulders share
their movements), the detector sometimes loses the cue for most of a clip,
classes follow a long tail with a handful of clips for the rare ones, and
clip lengths are log-normal like the real release's.

Files are written exactly where the MiGA track-1 release puts them::

    imigue_data_phase1/datasets/imigue_skeleton_{train,validate}/<vid>/
        <vid>_label.csv, <vid>_openpose.xlsx
    imigue_data_phase2/imigue_skeleton_test/<vid>/ (same two files)
    imigue_rgb_phase1/{train_data,validation_data}/<vid>/<vid>.mp4
    imigue_rgb_phase2/<vid>/<vid>.mp4
    toy_meta.json

Deviations from the real release, on purpose: frames are 320x180 by default
(1280x720 in iMiGUE) to keep CI fast; the test label files carry the true
classes, so the toy is its own answer key; ``toy_meta.json`` (seed, subjects,
splits, per-clip classes) has no counterpart in the release.

Everything random derives from ``seed``: the plan from one generator, each
subject's look from ``(seed, subject)`` and each video's timing and noise from
``(seed, video number)``, so the output does not depend on the worker count.
"""
import csv
import datetime
import functools
import json
import math
import operator
import os
import os.path as osp
import shutil
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Tuple

import cv2
import numpy as np
import xlsxwriter

from mmmg.classes import IMIGUE_CLASSES, index_to_miga_label
from mmmg.utils.job_runner import run_jobs

SPLITS = ('train', 'val', 'test')
# Release folders per split: (skeleton folder, RGB folder), as path parts.
RELEASE_DIRS = {
    'train': (('imigue_data_phase1', 'datasets', 'imigue_skeleton_train'),
              ('imigue_rgb_phase1', 'train_data')),
    'val': (('imigue_data_phase1', 'datasets', 'imigue_skeleton_validate'),
            ('imigue_rgb_phase1', 'validation_data')),
    'test':
    (('imigue_data_phase2', 'imigue_skeleton_test'), ('imigue_rgb_phase2', )),
}
META_FILE = 'toy_meta.json'
NUM_POINTS = 137
# Classes with a toy motion, most to least frequent by default: the order of
# ``classes`` sets the long tail.
# Two confusable families as in iMiGUE: a hand to the head (ears, face, chin,
# neck, hair: only where the hand goes differs) and head/shoulder movements
# (turtle neck, deep breath, head up, shake shoulder).
DEFAULT_CLASSES = (31, 16, 3, 10, 22, 23, 12, 1, 11, 30, 27, 8, 0)

# Fixed so that the same seed gives byte-identical xlsx files.
_XLSX_CREATED = datetime.datetime(2020, 8, 31)
# Independent random streams, keyed with the seed.
_SUBJECT_STREAM, _TIMING_STREAM, _NOISE_STREAM = 1, 2, 3


@dataclass(frozen=True)
class ToyImigueConfig:
    """Size and content options of the toy dataset.

    Args:
        num_subjects (int): Interviewees; each appears in exactly one split.
        val_subjects (int): Subjects of the validation split.
        test_subjects (int): Subjects of the test split; the rest train.
        clips_per_subject (int): Labelled segments per subject, spread over
            that subject's videos.
        videos_per_subject (tuple[int, int]): Inclusive range of long videos
            per subject.
        classes (tuple[int]): iMiGUE class indices to use, most frequent
            first; every one must have a toy motion (see
            :data:`MOTION_CLASSES`).
        imbalance (float): Frequency ratio of the first to the last class,
            with Zipf-like (power-law) frequencies in between: a steep head
            and a long flat tail, the shape of iMiGUE's histogram.
        min_clips (int): Clips every class gets in every split before the
            long tail is shared out, so rare classes have a handful.
        clip_len (tuple[int, int]): Inclusive range of segment lengths in
            frames. Lengths are log-normal like iMiGUE's (mean 2.55 s, most
            short, a long right tail), truncated to this range.
        gap_len (tuple[int, int]): Inclusive range of idle frames before
            each segment (and after the last one).
        fps (int): Frame rate of the videos.
        frame_size (tuple[int, int]): ``(width, height)`` of the videos;
            keypoints are in pixels of this frame.
    """
    num_subjects: int = 14
    val_subjects: int = 3
    test_subjects: int = 3
    clips_per_subject: int = 40
    videos_per_subject: Tuple[int, int] = (1, 2)
    classes: Tuple[int, ...] = DEFAULT_CLASSES
    imbalance: float = 10.0
    min_clips: int = 4
    clip_len: Tuple[int, int] = (16, 112)
    gap_len: Tuple[int, int] = (4, 24)
    fps: int = 25
    frame_size: Tuple[int, int] = (320, 180)

    def __post_init__(self):
        for name in ('videos_per_subject', 'classes', 'clip_len', 'gap_len',
                     'frame_size'):
            object.__setattr__(self, name,
                               tuple(int(v) for v in getattr(self, name)))
        self.validate()

    @property
    def split_subjects(self) -> Dict[str, int]:
        held_out = self.val_subjects + self.test_subjects
        return dict(
            train=self.num_subjects - held_out,
            val=self.val_subjects,
            test=self.test_subjects)

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad option."""

        def check(ok, message):
            if not ok:
                raise ValueError(message)

        def check_range(name, lo_min):
            value = getattr(self, name)
            check(
                len(value) == 2 and lo_min <= value[0] <= value[1],
                f'{name} must be a range (lo, hi) with {lo_min} <= lo <= '
                f'hi, got {value}')

        check(
            min(self.val_subjects, self.test_subjects) >= 1,
            'val_subjects and test_subjects must be >= 1')
        check(
            self.split_subjects['train'] >= 1,
            f'num_subjects ({self.num_subjects}) must exceed val_subjects '
            f'+ test_subjects ({self.val_subjects + self.test_subjects})')
        check(
            len(set(self.classes)) == len(self.classes) >= 2,
            f'classes must be at least two distinct indices, got '
            f'{self.classes}')
        unknown = sorted(set(self.classes) - set(MOTION_CLASSES))
        check(
            not unknown, f'classes {unknown} have no toy motion; choose from '
            f'{sorted(MOTION_CLASSES)}')
        check_range('videos_per_subject', 1)
        check(
            self.clips_per_subject >= self.videos_per_subject[1],
            'clips_per_subject must be >= the most videos per subject, so '
            'that no video is empty')
        fewest = self.clips_per_subject * min(self.split_subjects.values())
        check(self.min_clips >= 1, 'min_clips must be >= 1')
        check(
            fewest >= len(self.classes) * self.min_clips,
            f'{len(self.classes)} classes cannot all occur {self.min_clips} '
            f'times in a split of {fewest} clips: raise clips_per_subject or '
            'use fewer classes or a lower min_clips')
        check(self.imbalance >= 1, 'imbalance must be >= 1')
        check_range('clip_len', 8)
        check_range('gap_len', 0)
        check(1 <= self.fps <= 120, f'fps must be in [1, 120], got {self.fps}')
        size = self.frame_size
        check(
            len(size) == 2 and size[0] >= 64 and size[1] >= 36
            and size[0] % 2 == 0 and size[1] % 2 == 0,
            'frame_size must be (width, height), even and at least 64x36 '
            f'(video encoders want even sizes), got {size}')


# Presets of the CLI's --size; 'tiny' keeps unit tests at a few seconds.
TOY_PRESETS = {
    'default': {},
    'tiny':
    dict(
        num_subjects=3,
        val_subjects=1,
        test_subjects=1,
        clips_per_subject=5,
        videos_per_subject=(1, 1),
        classes=(31, 16, 10, 22),
        imbalance=3.0,
        min_clips=1,
        clip_len=(24, 32),
        gap_len=(4, 8)),
}


@dataclass(frozen=True)
class SubjectStyle:
    """Look and behaviour of one interviewee.

    Lengths are in body units ``u`` (about a head height); ``scale`` sets
    ``u`` relative to a fifth of the frame height.
    """
    scale: float
    center: Tuple[float, float]  # neck, as fractions of the frame
    shoulder: float  # half shoulder width
    upper_arm: float
    forearm: float
    hand: float  # wrist to middle fingertip
    head: float  # head height
    neck: float  # neck length
    left_handed: bool
    sway: float  # idle sway amplitude
    sway_freq: float  # Hz
    yaw_bias: float  # looking at the interviewer, radians
    speed: float  # gesture tempo multiplier
    amplitude: float  # gesture size multiplier
    jitter: float  # detector noise multiplier
    skin: Tuple[int, int, int]  # BGR colours from here on
    hair: Tuple[int, int, int]
    shirt: Tuple[int, int, int]
    wall: Tuple[int, int, int]
    accent: Tuple[int, int, int]
    table: Tuple[int, int, int]
    # Posture: leaning in (head forward and down), one shoulder higher,
    # where the hands rest.
    lean: float = 0.0
    shoulder_tilt: float = 0.0
    rest_wrist: Tuple[float, float] = (0.55, 2.0)
    # Style: restless hands, where this person's hand lands on the head
    # (x, y offset of every hand-to-head target), how often they use the
    # other hand.
    fidget: float = 1.0
    reach_bias: Tuple[float, float] = (0.0, 0.0)
    other_hand: float = 0.15


@dataclass(frozen=True)
class VideoPlan:
    """One long video: who, which split, and its labelled segments."""
    vid: str
    number: int
    subject: int
    split: str
    num_frames: int
    # (class index, start frame, end frame), 0-based, end inclusive.
    segments: Tuple[Tuple[int, int, int], ...]
    # Camera framing of this video relative to the subject's usual one.
    zoom: float = 1.0
    shift: Tuple[float, float] = (0.0, 0.0)


@dataclass
class ToyPlan:
    """Everything about a toy dataset that is decided before synthesis."""
    config: ToyImigueConfig
    seed: int
    subjects: List[SubjectStyle]
    subject_split: Dict[int, str]
    videos: List[VideoPlan] = field(default_factory=list)

    def clips(self) -> List[dict]:
        """Per-clip records; ``clip_id`` follows the release's
        ``<vid>_<row index>``."""
        return [
            dict(
                clip_id=f'{v.vid}_{i}',
                vid=v.vid,
                split=v.split,
                subject=v.subject,
                label=label,
                start=start,
                end=end) for v in self.videos
            for i, (label, start, end) in enumerate(v.segments)
        ]

    def class_counts(self) -> Dict[str, Dict[int, int]]:
        counts = {s: {c: 0 for c in self.config.classes} for s in SPLITS}
        for clip in self.clips():
            counts[clip['split']][clip['label']] += 1
        return counts


def long_tail_counts(total: int,
                     num_classes: int,
                     imbalance: float,
                     min_count: int = 1) -> List[int]:
    """Split ``total`` clips over classes with Zipf-like frequencies.

    ``min_count`` clips per class are reserved first so that every class
    occurs; the rest goes by largest remainder to weights ``(k + 1) ** -a``
    for class rank ``k``, with ``a`` set so that the first weight is
    ``imbalance`` times the last.
    """
    if total < num_classes * min_count:
        raise ValueError(f'{total} clips cannot cover {num_classes} classes '
                         f'{min_count} times each')
    ranks = np.arange(num_classes) + 1.0
    weights = ranks**-(np.log(imbalance) / np.log(max(num_classes, 2)))
    rest = total - num_classes * min_count
    share = rest * weights / weights.sum()
    counts = np.floor(share).astype(int)
    remainder = share - counts
    # Stable sort keeps ties in class order, so the plan is deterministic.
    order = np.argsort(-remainder, kind='stable')
    counts[order[:rest - counts.sum()]] += 1
    return (counts + min_count).tolist()


# iMiGUE-3K's labelled instances: 0.18-80.92 s, mean 2.55 s, most short;
# a log-normal with this spread and that mean.
_CLIP_SECONDS_SIGMA = 0.7
_CLIP_SECONDS_MEDIAN = 2.55 / math.exp(_CLIP_SECONDS_SIGMA**2 / 2)


def _clip_length(rng: np.random.Generator, fps: int, lo: int, hi: int) -> int:
    """A log-normal segment length in frames, redrawn until in [lo, hi]."""
    for _ in range(100):
        length = int(
            round(fps * _CLIP_SECONDS_MEDIAN *
                  math.exp(_CLIP_SECONDS_SIGMA * rng.normal())))
        if lo <= length <= hi:
            return length
    return int(rng.integers(lo, hi + 1))  # a range far from iMiGUE's


def _sample_style(rng: np.random.Generator) -> SubjectStyle:

    def colour(lo, hi):
        return tuple(int(v) for v in rng.integers(lo, hi, 3))

    skin_tones = ((180, 200, 235), (140, 170, 215), (95, 130, 185), (60, 85,
                                                                     130))
    skin = np.array(skin_tones[rng.integers(len(skin_tones))], float)
    skin = tuple(int(v) for v in np.clip(skin + rng.normal(0, 8, 3), 0, 255))
    return SubjectStyle(
        scale=float(rng.uniform(0.88, 1.12)),
        center=(float(rng.uniform(0.4, 0.6)), float(rng.uniform(0.4, 0.46))),
        shoulder=float(rng.uniform(0.85, 1.05)),
        upper_arm=float(rng.uniform(1.25, 1.45)),
        forearm=float(rng.uniform(1.1, 1.3)),
        hand=float(rng.uniform(0.68, 0.82)),
        head=float(rng.uniform(0.94, 1.06)),
        neck=float(rng.uniform(0.3, 0.42)),
        left_handed=bool(rng.random() < 0.2),
        sway=float(rng.uniform(0.02, 0.06)),
        sway_freq=float(rng.uniform(0.1, 0.3)),
        yaw_bias=float(rng.uniform(-0.3, 0.3)),
        speed=float(rng.uniform(0.8, 1.25)),
        amplitude=float(rng.uniform(0.85, 1.15)),
        jitter=float(rng.uniform(0.8, 1.2)),
        skin=skin,
        hair=colour(10, 90),
        shirt=colour(30, 220),
        wall=colour(170, 240),
        accent=colour(20, 200),
        table=colour(30, 90),
        lean=float(rng.uniform(0, 0.3)),
        shoulder_tilt=float(rng.normal(0, 0.04)),
        rest_wrist=(float(rng.uniform(0.35,
                                      0.75)), float(rng.uniform(1.75, 2.05))),
        fidget=float(rng.lognormal(0, 0.4)),
        reach_bias=(float(rng.normal(0, 0.07)), float(rng.normal(0, 0.07))),
        other_hand=float(rng.uniform(0.05, 0.3)),
    )


def plan_toy_imigue(seed: int = 0, **options) -> ToyPlan:
    """Decide subjects, splits, videos and labelled segments.

    Cheap: nothing is synthesised or written. ``options`` are the fields of
    :class:`ToyImigueConfig`.
    """
    cfg = ToyImigueConfig(**options)
    rng = np.random.default_rng(seed)
    subjects = [
        _sample_style(np.random.default_rng([seed, _SUBJECT_STREAM, s]))
        for s in range(cfg.num_subjects)
    ]
    order = rng.permutation(cfg.num_subjects).tolist()
    subject_split, by_split, begin = {}, {}, 0
    for split in SPLITS:
        n = cfg.split_subjects[split]
        by_split[split] = sorted(order[begin:begin + n])
        subject_split.update({s: split for s in by_split[split]})
        begin += n

    videos = []  # (subject, split, labels) before numbering
    lo, hi = cfg.videos_per_subject
    for split in SPLITS:
        counts = long_tail_counts(
            len(by_split[split]) * cfg.clips_per_subject, len(cfg.classes),
            cfg.imbalance, cfg.min_clips)
        labels = rng.permutation(np.repeat(cfg.classes, counts)).tolist()
        for k, subject in enumerate(by_split[split]):
            own = labels[k * cfg.clips_per_subject:(k + 1) *
                         cfg.clips_per_subject]
            num_videos = int(rng.integers(lo, hi + 1))
            # Roughly equal parts, none empty (clips_per_subject >= hi).
            edges = np.arange(1, num_videos) + rng.uniform(
                -0.15, 0.15, num_videos - 1)
            cuts = np.round(edges * len(own) / num_videos).astype(int)
            for part in np.split(np.array(own), cuts):
                videos.append((subject, split, part.tolist()))

    # Shuffled numbering, so readers cannot rely on splits being id ranges.
    plan = ToyPlan(cfg, seed, subjects, subject_split)
    for number, k in enumerate(rng.permutation(len(videos)).tolist(), 1):
        subject, split, labels = videos[k]
        timing = np.random.default_rng([seed, _TIMING_STREAM, number])
        segments, cursor = [], 0
        for label in labels:
            start = cursor + int(
                timing.integers(cfg.gap_len[0], cfg.gap_len[1] + 1))
            length = _clip_length(timing, cfg.fps, *cfg.clip_len)
            segments.append((int(label), start, start + length - 1))
            cursor = start + length
        num_frames = cursor + int(
            timing.integers(cfg.gap_len[0], cfg.gap_len[1] + 1))
        plan.videos.append(
            VideoPlan(
                vid=f'{number:04d}',
                number=number,
                subject=subject,
                split=split,
                num_frames=num_frames,
                segments=tuple(segments),
                zoom=float(timing.uniform(0.95, 1.05)),
                shift=(float(timing.uniform(-0.03, 0.03)),
                       float(timing.uniform(-0.02, 0.02)))))
    plan.videos.sort(key=lambda v: v.number)
    return plan


# ----------------------------------------------------------------------------
# Motion: per-frame pose parameters ("tracks") in body units.
#
# Coordinates are relative to the resting neck, x to the image right, y down.
# Arm sides are 'R' (the person's right, image left) and 'L'. Class motions
# are written for a right-handed subject; for a left-handed one the
# dominant/other hands swap and x and hand angles are mirrored.
# ----------------------------------------------------------------------------

_REST_HAND_ANGLE = math.radians(70)  # right hand: down and inwards
_TABLE = 2.1  # table edge below the neck
_TORSO = 2.5  # neck to mid hip
# Per-clip variation around the subject's own size and tempo (log-normal
# sigmas), scatter of where a hand lands on the head (body units), and how
# often the detector loses the cue (the hand doing it, maybe the face) for
# most of a clip.
_CLIP_AMP_SIGMA = 0.35
_CLIP_SPEED_SIGMA = 0.25
_TARGET_SPREAD = 0.1
_CUE_LOST_RATE = 0.15
# OpenPose points of the face: nose, eyes, ears and the 70 face points.
_FACE_POINTS = [0, 15, 16, 17, 18] + list(range(25, 95))


def _smoothstep(x):
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)


def _envelope(tau, rise=0.25):
    """0 -> 1 -> 0 over a segment, flat in the middle."""
    return _smoothstep(tau / rise) * _smoothstep((1 - tau) / rise)


def _smooth_noise(rng, t, amplitude, freq):
    """Deterministic band-limited wobble: three random sinusoids."""
    f = freq * rng.uniform(0.6, 1.6, 3)
    phase = rng.uniform(0, 2 * np.pi, 3)
    return amplitude * np.mean(
        np.sin(2 * np.pi * f[:, None] * t[None] + phase[:, None]), axis=0)


class _Tracks:
    """Per-frame pose parameters of one video, edited in place by motions.

    ``lost_*`` are not pose: frames in which the detector loses that hand
    or the face, whatever it looks like.
    """

    NAMES = ('nx', 'ny', 'lift_R', 'lift_L', 'widen', 'head_drop', 'pitch',
             'yaw', 'roll', 'mouth', 'wx_R', 'wy_R', 'wx_L', 'wy_L',
             'swivel_R', 'swivel_L', 'angle_R', 'angle_L', 'curl_R', 'curl_L',
             'spread_R', 'spread_L', 'hide_R', 'hide_L', 'cover_R', 'cover_L',
             'lost_R', 'lost_L', 'lost_face')

    def __init__(self, num_frames: int, style: SubjectStyle):
        zeros = np.zeros(num_frames)
        self.p = {name: zeros.copy() for name in self.NAMES}
        for side, sign in (('R', -1), ('L', 1)):
            self.p[f'wx_{side}'] += sign * style.rest_wrist[0]
            self.p[f'wy_{side}'] += style.rest_wrist[1]
            self.p[f'swivel_{side}'] += 1
            self.p[f'angle_{side}'] += _mirror_angle(_REST_HAND_ANGLE, side)
            self.p[f'curl_{side}'] += 0.35
            self.p[f'spread_{side}'] += 0.3

    def __getitem__(self, name):
        return self.p[name]


def _mirror_angle(angle, side):
    return angle if side == 'R' else np.pi - angle


class _Segment:
    """Helper handed to class motions: one segment's frames and context.

    Every clip differs: the gesture fills a random part of the segment with
    its own onset, size (``amp``) and tempo (``speed``); sometimes the
    subject uses the other hand; sometimes the detector loses the cue.
    """

    def __init__(self, tracks, sl, fps, style, rng):
        self.tracks, self.sl, self.style, self.rng = tracks, sl, style, rng
        n = sl.stop - sl.start
        self.tau = (np.arange(n) + 0.5) / n
        self.t = np.arange(n) / fps
        begin, end = rng.uniform(0, 0.2), rng.uniform(0.8, 1.0)
        self.env = _envelope((self.tau - begin) / (end - begin),
                             rng.uniform(0.15, 0.35))
        self.amp = style.amplitude * rng.lognormal(0, _CLIP_AMP_SIGMA)
        self.speed = style.speed * rng.lognormal(0, _CLIP_SPEED_SIGMA)
        other = rng.random() < style.other_hand
        self.dom, self.other = (('L', 'R') if style.left_handed != other else
                                ('R', 'L'))
        self.mirror = -1 if self.dom == 'L' else 1
        if rng.random() < _CUE_LOST_RATE:
            start, length = rng.uniform(0, 0.4), rng.uniform(0.5, 0.9)
            lost = (self.tau >= start) & (self.tau < start + length)
            tracks.p['lost_' + self.dom][sl] = np.maximum(
                tracks.p['lost_' + self.dom][sl], lost)
            if rng.random() < 0.5:
                tracks.p['lost_face'][sl] = np.maximum(
                    tracks.p['lost_face'][sl], lost)

    def phase(self, freq):
        return 2 * np.pi * freq * self.speed * self.t + self.rng.uniform(
            0, 2 * np.pi)

    def blend(self, name, target, strength=1.0):
        """Move a track towards ``target`` by the envelope."""
        track = self.tracks[name]
        track[self.sl] += strength * self.env * (target - track[self.sl])

    def add(self, name, delta):
        self.tracks[name][self.sl] += delta

    def head_center(self):
        """Head centre relative to the resting neck, with the head motion
        set so far."""
        p, sl, st = self.tracks.p, self.sl, self.style
        return (p['nx'][sl],
                p['ny'][sl] - st.neck - 0.5 * st.head + p['head_drop'][sl])

    def hand(self,
             role,
             x,
             y,
             angle=None,
             curl=None,
             spread=None,
             swivel=None,
             follow_head=False,
             reach=1.0):
        """Blend one hand towards a pose given for a right-handed subject.

        Args:
            role: 'dom' or 'other'.
            x, y: Wrist target; relative to the head centre if
                ``follow_head`` (so hands stay on a moving face).
            reach: How far of the way the wrist goes (1: all of it).
        """
        side = self.dom if role == 'dom' else self.other
        if follow_head:
            hx, hy = self.head_center()
            x, y = hx + self.mirror * x, hy + y
        else:
            x = self.mirror * x
        self.blend(f'wx_{side}', x, reach)
        self.blend(f'wy_{side}', y, reach)
        if angle is not None:
            if self.mirror < 0:
                angle = np.pi - angle
            self.blend(f'angle_{side}', angle)
        for name, value in (('curl', curl), ('spread', spread), ('swivel',
                                                                 swivel)):
            if value is not None:
                self.blend(f'{name}_{side}', value)

    def to_head(self, x, y, angle, cover, **hand):
        """The dominant hand to a spot of the head. Where it lands scatters
        from clip to clip around this person's habit, and a small gesture
        may stop short of it: that spot is all that tells the hand-to-head
        classes apart."""
        bx, by = self.style.reach_bias
        dx, dy = self.rng.normal(0, _TARGET_SPREAD, 2)
        self.hand(
            'dom',
            x + bx + dx,
            y + by + dy,
            angle=angle + self.rng.normal(0, 0.15),
            follow_head=True,
            reach=min(1.0, 0.75 + 0.25 * self.amp),
            **hand)
        self.tracks.p['cover_' + self.dom][self.sl] = cover * self.env


def _turtle_neck(s: _Segment):
    # The head sinks between raised shoulders and stays there.
    s.add('head_drop', 0.4 * s.amp * s.env)
    s.add('lift_R', 0.16 * s.amp * s.env)
    s.add('lift_L', 0.16 * s.amp * s.env)
    s.add('pitch', -0.12 * s.amp * s.env)


def _deep_breath(s: _Segment):
    # One slow inhale and exhale: the whole upper body rises and widens,
    # the chin lifts a little (as in head up).
    breath = np.sin(np.pi * s.tau)**2 * s.amp
    s.add('ny', -0.14 * breath)
    s.add('lift_R', 0.14 * breath)
    s.add('lift_L', 0.14 * breath)
    s.add('widen', 0.12 * breath)
    s.add('pitch', 0.12 * breath)
    s.add('mouth', np.clip(np.sin(2 * np.pi * s.tau), 0, 1)[::-1])


def _touch_ears(s: _Segment):
    pull = 0.05 * s.amp * np.sin(s.phase(1.5))
    s.to_head(
        -0.95, 0.32 + pull, math.radians(-75), 0.4, curl=0.35, spread=0.3)


def _touch_face(s: _Segment):
    rub = 0.07 * s.amp * np.sin(s.phase(2.0))
    s.to_head(-0.38 + rub, 0.72, math.radians(-80), 1.0, curl=0.15, spread=0.2)
    s.add('roll', (-0.1 if s.dom == 'R' else 0.1) * s.env)


def _touch_chin(s: _Segment):
    stroke = 0.05 * s.amp * np.sin(s.phase(1.2))
    s.to_head(0.0, 1.1 + stroke, math.radians(-90), 1.0, curl=0.6, spread=0.1)
    s.add('pitch', -0.1 * s.env)


def _touch_neck(s: _Segment):
    scratch = 0.05 * s.amp * np.sin(s.phase(3.0))
    s.to_head(
        -0.25 + scratch, 1.55, math.radians(-60), 0.3, curl=0.3, spread=0.2)
    s.add('pitch', 0.08 * s.env)  # chin up, neck free


def _play_hair(s: _Segment):
    phase = s.phase(1.5)
    r = 0.09 * s.amp
    s.to_head(
        -0.45 + r * np.cos(phase),
        -0.2 + r * np.sin(phase),
        math.radians(-105),
        0.5,
        curl=0.35 + 0.25 * np.sin(phase),
        spread=0.5,
        swivel=-1.0)
    s.add('roll', (0.08 if s.dom == 'R' else -0.08) * s.env)


def _fold_arm(s: _Segment):
    breath = 0.02 * np.sin(s.phase(0.3))
    x, y = 0.62, 1.26 + s.rng.normal(0, 0.06)
    s.hand(
        'dom',
        x,
        y + 0.04 + breath,
        angle=math.radians(10),
        curl=0.5,
        spread=0.0)
    s.hand(
        'other',
        -x,
        y - 0.04 + breath,
        angle=math.radians(170),
        curl=0.5,
        spread=0.0)
    # Hands tucked under the arms: fingers mostly hidden from the detector.
    for side in 'RL':
        s.tracks.p['hide_' + side][s.sl] = 0.6 * s.env


def _rub_hand(s: _Segment):
    # A small rub is hard to tell from crossed fingers.
    rub = 0.13 * s.amp * np.sin(s.phase(2.5))
    y = 1.6 + s.rng.normal(0, 0.08)
    s.hand(
        'dom', -0.14, y + rub, angle=math.radians(-25), curl=0.1, spread=0.0)
    s.hand(
        'other', 0.14, y - rub, angle=math.radians(205), curl=0.1, spread=0.0)


def _cross_finger(s: _Segment):
    drift = 0.02 * np.sin(s.phase(0.4))
    y = 1.75 + s.rng.normal(0, 0.08)
    s.hand(
        'dom', -0.3, y + drift, angle=math.radians(-5), curl=0.8, spread=0.6)
    s.hand(
        'other', 0.3, y + drift, angle=math.radians(185), curl=0.8, spread=0.6)


def _head_up(s: _Segment):
    s.add('pitch', 0.7 * s.amp * s.env)
    s.add('head_drop', -0.2 * s.amp * s.env)
    if s.rng.random() < 0.4:  # with a breath in, as in deep breath
        s.add('lift_R', 0.06 * s.amp * s.env)
        s.add('lift_L', 0.06 * s.amp * s.env)


def _shake_shoulder(s: _Segment):
    # One to three shrugs; a single slow one looks like a deep breath, and
    # some people shrug one shoulder only.
    reps = int(s.rng.choice([1, 2, 3], p=[0.2, 0.4, 0.4]))
    shrug = 0.35 * s.amp * s.env * (0.5 -
                                    0.5 * np.cos(2 * np.pi * reps * s.tau))
    both = s.rng.random() < 0.75
    s.add('lift_' + s.dom, shrug)
    s.add('lift_' + s.other, shrug if both else 0.2 * shrug)
    s.add('ny', -0.1 * shrug)


def _illustrative(s: _Segment):
    # Talking with the hands: a wandering path in front of the chest, at
    # times up near the chin.
    t = s.t * s.speed
    path_x = _smooth_noise(s.rng, t, 0.35 * s.amp, 1.0)
    path_y = _smooth_noise(s.rng, t, 0.25 * s.amp, 1.0)
    twist = _smooth_noise(s.rng, t, 0.5, 0.8)
    high = 0.5 if s.rng.random() < 0.25 else 0.0
    s.hand(
        'dom',
        -0.4 + path_x,
        1.1 - high + path_y,
        angle=math.radians(-45) + twist,
        curl=0.1,
        spread=1.0)
    if s.rng.random() < 0.5:
        s.hand(
            'other',
            0.45 - 0.6 * path_x,
            1.25 + 0.6 * path_y,
            angle=math.radians(225) - twist,
            curl=0.15,
            spread=0.9)


# iMiGUE class index -> motion.
MOTION_CLASSES = {
    0: _turtle_neck,
    1: _deep_breath,
    3: _touch_face,
    8: _touch_ears,
    10: _touch_chin,
    11: _touch_neck,
    12: _play_hair,
    16: _fold_arm,
    22: _rub_hand,
    23: _cross_finger,
    27: _head_up,
    30: _shake_shoulder,
    31: _illustrative,
}


def _make_tracks(video: VideoPlan, style: SubjectStyle, fps: int,
                 rng: np.random.Generator) -> _Tracks:
    T = video.num_frames
    t = np.arange(T) / fps
    tracks = _Tracks(T, style)
    p = tracks.p
    # Posture: leaning in brings the head forward and down.
    p['head_drop'] += 0.5 * style.lean
    p['pitch'] -= 0.3 * style.lean
    p['ny'] += 0.15 * style.lean
    p['lift_R'] += style.shoulder_tilt
    p['lift_L'] -= style.shoulder_tilt
    # Idle life: sway, a wandering gaze, restless hands.
    p['nx'] += _smooth_noise(rng, t, style.sway, style.sway_freq)
    p['ny'] += _smooth_noise(rng, t, 0.4 * style.sway, style.sway_freq)
    p['yaw'] += style.yaw_bias + _smooth_noise(rng, t, 0.12, 0.08)
    p['pitch'] += _smooth_noise(rng, t, 0.04, 0.1)
    p['roll'] += _smooth_noise(rng, t, 0.03, 0.1)
    for side in 'RL':
        p[f'wx_{side}'] += _smooth_noise(rng, t, 0.04 * style.fidget, 0.15)
        p[f'wy_{side}'] += _smooth_noise(rng, t, 0.03 * style.fidget, 0.15)
        p[f'curl_{side}'] += _smooth_noise(rng, t, 0.1, 0.1)
    for label, start, end in video.segments:
        MOTION_CLASSES[label](
            _Segment(tracks, slice(start, end + 1), fps, style, rng))
    return tracks


# ----------------------------------------------------------------------------
# Geometry: tracks -> 137 clean keypoints (pixels).
# ----------------------------------------------------------------------------


def _face_template() -> np.ndarray:
    """iBUG-68 + 2 pupils as (x, y, depth) in head heights around the head
    centre; x to the image right, so point 0 is on the person's right."""
    pts = np.zeros((70, 3))
    a = np.pi * np.arange(17) / 16
    pts[:17] = np.stack(
        [-0.42 * np.cos(a), -0.05 + 0.52 * np.sin(a), 0.05 + 0.15 * np.sin(a)],
        1)  # jaw
    bx = np.linspace(0.36, 0.08, 5)
    brow_y = -0.22 - 0.04 * np.sin(np.pi * np.linspace(0, 1, 5))
    pts[17:22] = np.stack([-bx, brow_y, np.full(5, 0.2)], 1)
    pts[22:27] = np.stack([bx[::-1], brow_y[::-1], np.full(5, 0.2)], 1)
    pts[27:31] = np.stack(
        [np.zeros(4),
         np.linspace(-0.16, 0.08, 4),
         np.linspace(0.25, 0.4, 4)], 1)  # bridge
    pts[31:36] = np.stack([
        np.linspace(-0.1, 0.1, 5), [0.12, 0.13, 0.14, 0.13, 0.12],
        [0.3, 0.32, 0.34, 0.32, 0.3]
    ], 1)  # nose
    eye = np.array([[-0.09, 0], [-0.03, -0.03], [0.03, -0.03], [0.09, 0],
                    [0.03, 0.025], [-0.03, 0.025]])
    pts[36:42, :2] = eye + (-0.2, -0.1)  # outer corner first
    pts[42:48, :2] = eye * (-1, 1) + (0.2, -0.1)  # mirrored: inner first
    pts[42:48] = pts[[45, 44, 43, 42, 47, 46]]  # iBUG order for the left
    pts[36:48, 2] = 0.18
    outer = np.array([[-0.18, 0.26], [-0.11, 0.23], [-0.04, 0.22], [0, 0.23],
                      [0.04, 0.22], [0.11, 0.23], [0.18, 0.26], [0.11, 0.31],
                      [0.04, 0.33], [0, 0.335], [-0.04, 0.33], [-0.11, 0.31]])
    inner = np.array([[-0.14, 0.265], [-0.05, 0.255], [0, 0.255],
                      [0.05, 0.255], [0.14, 0.265], [0.05, 0.275], [0, 0.275],
                      [-0.05, 0.275]])
    pts[48:60, :2], pts[60:68, :2] = outer, inner
    pts[48:68, 2] = 0.3
    pts[68] = (-0.2, -0.1, 0.2)
    pts[69] = (0.2, -0.1, 0.2)
    return pts


_FACE = _face_template()
_EARS = np.array([[-0.47, -0.02, -0.15], [0.47, -0.02, -0.15]])
# Lower lip and the chin part of the jaw drop when the mouth opens.
_MOUTH_OPEN = np.zeros(70)
_MOUTH_OPEN[[55, 56, 57, 58, 59, 65, 66, 67]] = 1
_MOUTH_OPEN[5:12] = 0.5

# Hand template, in hand lengths: (MCP along, MCP across towards the thumb,
# base angle per unit spread, three phalanx lengths) per finger.
_FINGERS = (
    (0.42, 0.11, 0.12, (0.2, 0.12, 0.1)),  # index
    (0.45, 0.035, 0.03, (0.22, 0.14, 0.11)),  # middle
    (0.43, -0.04, -0.07, (0.2, 0.13, 0.1)),  # ring
    (0.38, -0.11, -0.16, (0.15, 0.1, 0.09)),  # pinky
)
_THUMB = ((0.12, 0.12), 0.75, (0.16, 0.13, 0.11))
# Wrist to the open middle fingertip, in template units.
_HAND_REACH = _FINGERS[1][0] + sum(_FINGERS[1][3])


def _rotate(vx, vy, angle):
    c, s = np.cos(angle), np.sin(angle)
    return vx * c - vy * s, vx * s + vy * c


def _hand_points(wrist, angle, curl, spread, size, thumb_side):
    """21 hand points (T, 21, 2) from wrist, pointing angle and curl.

    Curling folds phalanges towards the camera-facing palm, which in the
    image shortens them (cosine of the accumulated bend) and, past 90
    degrees, brings the tips back over the palm.
    """
    T = len(angle)
    pts = np.zeros((T, 21, 2))
    pts[:, 0] = wrist
    ax = np.stack([np.cos(angle), np.sin(angle)], -1)
    # Across-axis towards the thumb: the thumb faces the body midline.
    across = thumb_side * np.stack([-np.sin(angle), np.cos(angle)], -1)

    def local(a, b):
        return wrist + size * (a[..., None] * ax + b[..., None] * across)

    (ta, tb), tangle, tlens = _THUMB
    joint = local(np.full(T, ta), np.full(T, tb))
    pts[:, 1] = joint
    direction = tangle + 0.2 * spread - 0.5 * curl
    along = np.zeros(T)
    for k, length in enumerate(tlens):
        direction = direction - 0.25 * curl * (k > 0)
        da, db = np.cos(direction), np.sin(direction)
        joint = joint + size * length * (
            da[:, None] * ax + db[:, None] * across)
        pts[:, 2 + k] = joint
    for f, (ma, mb, spread_angle, lens) in enumerate(_FINGERS):
        base = 5 + 4 * f
        joint = local(np.full(T, ma), np.full(T, mb))
        pts[:, base] = joint
        direction = spread_angle * spread
        da, db = np.cos(direction), np.sin(direction)
        bend = np.zeros(T)
        for k, length in enumerate(lens):
            bend = bend + 1.3 * curl
            along = length * np.cos(bend)
            joint = joint + size * along[:, None] * (
                da[:, None] * ax + db[:, None] * across)
            pts[:, base + 1 + k] = joint
    return pts


def _arm(shoulder, target, upper, fore, swivel, bend_sign):
    """Two-link arm: (elbow, reachable wrist) with the elbow on the side
    given by ``swivel`` (+1 outwards/down, -1 the other way)."""
    d = target - shoulder
    dist = np.linalg.norm(d, axis=-1)
    reach = np.clip(dist, abs(upper - fore) + 1e-3, upper + fore - 1e-3)
    unit = d / np.maximum(dist, 1e-9)[:, None]
    wrist = shoulder + unit * reach[:, None]
    cos_a = (upper**2 + reach**2 - fore**2) / (2 * upper * reach)
    a = np.arccos(np.clip(cos_a, -1, 1)) * swivel * bend_sign
    ex, ey = _rotate(unit[:, 0], unit[:, 1], a)
    elbow = shoulder + upper * np.stack([ex, ey], -1)
    return elbow, wrist


@dataclass
class _Scene:
    """Pixel geometry of one video."""
    unit: float  # pixels per body unit
    origin: np.ndarray  # resting neck in pixels
    table_y: float
    width: int
    height: int


def _scene(video: VideoPlan, style: SubjectStyle, frame_size) -> _Scene:
    width, height = frame_size
    unit = 0.2 * height * style.scale * video.zoom
    origin = np.array([(style.center[0] + video.shift[0]) * width,
                       (style.center[1] + video.shift[1]) * height])
    return _Scene(unit, origin, origin[1] + _TABLE * unit, width, height)


def _pose_points(tracks: _Tracks, style: SubjectStyle,
                 scene: _Scene) -> Tuple[np.ndarray, np.ndarray]:
    """Clean keypoints (T, 137, 2) in pixels, and a mask of points the
    detector cannot see for geometric reasons (hidden, legs, off-frame)."""
    p = tracks.p
    T = len(p['nx'])
    u = scene.unit
    kp = np.zeros((T, NUM_POINTS, 2))
    hidden = np.zeros((T, NUM_POINTS), bool)

    def px(x, y):
        return scene.origin + u * np.stack([x, y], -1)

    neck = px(p['nx'], p['ny'])
    kp[:, 1] = neck
    sh = {}
    for side, sign, idx in (('R', -1, 2), ('L', 1, 5)):
        sh[side] = px(p['nx'] + sign * (style.shoulder + p['widen']),
                      p['ny'] + 0.15 - p[f'lift_{side}'])
        kp[:, idx] = sh[side]
    # Hips sway less than the shoulders; legs are always off camera.
    hip_x = 0.3 * p['nx']
    kp[:, 8] = px(hip_x, np.full(T, _TORSO))
    kp[:, 9] = px(hip_x - 0.45, np.full(T, _TORSO))
    kp[:, 12] = px(hip_x + 0.45, np.full(T, _TORSO))
    hidden[:, [10, 11, 13, 14] + list(range(19, 25))] = True

    # Head: rotate the 3-D template, project orthographically.
    head = np.concatenate([_FACE, _EARS])[None].repeat(T, 0)
    head[:, :70, 1] += 0.06 * p['mouth'][:, None] * _MOUTH_OPEN
    x, y, z = head[..., 0], head[..., 1], head[..., 2]
    pitch, yaw = p['pitch'][:, None], p['yaw'][:, None]
    y, z = _rotate(y, z, pitch)  # up: the nose rises
    z, x = _rotate(z, x, yaw)  # +: the nose goes right
    x, y = _rotate(x, y, p['roll'][:, None])
    size = style.head
    cx = p['nx'][:, None]
    cy = (p['ny'] - style.neck - 0.5 * size + p['head_drop'])[:, None]
    head_px = px(cx + size * x, cy + size * y)
    kp[:, 25:95] = head_px[:, :70]
    kp[:, 0] = head_px[:, 30]  # nose tip
    kp[:, 15], kp[:, 16] = head_px[:, 68], head_px[:, 69]
    kp[:, 17], kp[:, 18] = head_px[:, 70], head_px[:, 71]
    hidden[:, 17] = z[:, 70] < -0.3  # an ear turned away
    hidden[:, 18] = z[:, 71] < -0.3

    arms = (('R', 1, 3, 4, 116), ('L', -1, 6, 7, 95))
    for side, sign, elbow_idx, wrist_idx, hand0 in arms:
        target = px(p[f'wx_{side}'], p[f'wy_{side}'])
        elbow, wrist = _arm(sh[side], target, style.upper_arm * u,
                            style.forearm * u, p[f'swivel_{side}'], sign)
        kp[:, elbow_idx], kp[:, wrist_idx] = elbow, wrist
        kp[:,
           hand0:hand0 + 21] = _hand_points(wrist, p[f'angle_{side}'],
                                            np.clip(p[f'curl_{side}'], 0,
                                                    1), p[f'spread_{side}'],
                                            style.hand * u / _HAND_REACH,
                                            -sign)

    hidden[:, 8:15] |= kp[:, 8:15, 1] > scene.table_y
    off = ((kp[..., 0] < 0) | (kp[..., 0] > scene.width - 1) | (kp[..., 1] < 0)
           | (kp[..., 1] > scene.height - 1))
    return kp, hidden | off


# ----------------------------------------------------------------------------
# Detector model: clean points -> OpenPose-like (x, y, confidence).
# ----------------------------------------------------------------------------

_PARTS = {   # slice: (jitter in body units, mean confidence)
    'body': (slice(0, 25), 0.02, 0.8),
    'face': (slice(25, 95), 0.01, 0.75),
    'hands': (slice(95, 137), 0.025, 0.55),
}
# Single points drop out for runs of 1-8 frames, as OpenPose's do; this
# many runs start per point and frame (about 3.5% of points missed).
_MISS_START = 0.008
_MISS_LEN = (1, 8)
_HAND_DROP_START = 0.004  # per frame and hand
_HAND_DROP_LEN = (3, 20)


def _dropout_runs(rng, T, rate, run_len):
    """(T, 137) bool: per-point misses in runs of ``run_len`` frames."""
    start = rng.random((T, NUM_POINTS)) < rate
    length = rng.integers(run_len[0], run_len[1] + 1, (T, NUM_POINTS))
    missed = start.copy()
    for k in range(1, run_len[1]):
        missed[k:] |= start[:T - k] & (length[:T - k] > k)
    return missed


def _detect(clean, hidden, tracks, style, scene, rng):
    """(T, 137, 3) detections of the clean points: jitter, confidences and
    misses (short runs per point, whole-hand runs, tucked fingers, a face
    under a hand)."""
    T = len(clean)
    sigma = np.zeros(NUM_POINTS)
    mean_conf = np.zeros(NUM_POINTS)
    for sl, jitter, conf in _PARTS.values():
        sigma[sl], mean_conf[sl] = jitter * style.jitter * scene.unit, conf
    xy = clean + rng.normal(size=clean.shape) * sigma[:, None]
    xy = np.clip(xy, 0, (scene.width - 1, scene.height - 1))
    conf = rng.normal(mean_conf, 0.1, size=(T, NUM_POINTS))
    missed = hidden | _dropout_runs(rng, T, _MISS_START, _MISS_LEN)

    for side, hand0 in (('R', 116), ('L', 95)):
        hand = slice(hand0, hand0 + 21)
        hide = tracks[f'hide_{side}']
        # Whole-hand dropouts come in runs, more often when hands are tucked.
        start = rng.random(T) < _HAND_DROP_START * (1 + 4 * hide)
        length = rng.integers(_HAND_DROP_LEN[0], _HAND_DROP_LEN[1] + 1, T)
        drop = np.zeros(T + _HAND_DROP_LEN[1], bool)
        for f in np.flatnonzero(start):
            drop[f:f + length[f]] = True
        missed[:, hand] |= drop[:T, None]
        fingers = slice(hand0 + 1, hand0 + 21)
        missed[:, fingers] |= rng.random((T, 20)) < hide[:, None]
        # The detector lost the hand doing the gesture (its wrist stays).
        missed[:, hand] |= tracks[f'lost_{side}'][:, None] > 0
        conf[:, hand] -= 0.25 * hide[:, None]
        # A hand on the face hides the face points under it.
        cover = tracks[f'cover_{side}']
        if cover.any():
            near = np.linalg.norm(
                clean[:, 25:95, None] - clean[:, None, hand], axis=-1).min(-1)
            under = near < 0.25 * scene.unit
            missed[:, 25:95] |= under & (
                rng.random((T, 70)) < 0.7 * cover[:, None])
            conf[:, 25:95] -= 0.3 * under * cover[:, None]

    missed[:, _FACE_POINTS] |= tracks['lost_face'][:, None] > 0
    out = np.concatenate([xy, np.clip(conf, 0.31, 1.0)[..., None]], -1)
    out[missed] = 0
    # OpenPose writes a few decimals; rounding also makes files exact.
    return np.round(out, 3)


@dataclass
class ToyVideo:
    """Synthesised keypoints of one video.

    Attributes:
        keypoints: (T, 137, 3) float64 x, y, confidence as written to the
            xlsx file; missed points are 0, 0, 0.
        clean: (T, 137, 2) noise-free geometry, as drawn.
        hidden: (T, 137) bool, points no detector could see.
    """
    video: VideoPlan
    keypoints: np.ndarray
    clean: np.ndarray
    hidden: np.ndarray
    scene: _Scene


def synthesize_video(plan: ToyPlan, video: VideoPlan) -> ToyVideo:
    """Keypoints of one planned video; depends only on the plan."""
    style = plan.subjects[video.subject]
    rng = np.random.default_rng([plan.seed, _NOISE_STREAM, video.number])
    scene = _scene(video, style, plan.config.frame_size)
    tracks = _make_tracks(video, style, plan.config.fps, rng)
    clean, hidden = _pose_points(tracks, style, scene)
    keypoints = _detect(clean, hidden, tracks, style, scene, rng)
    return ToyVideo(video, keypoints, clean, hidden, scene)


# ----------------------------------------------------------------------------
# Rendering and writing.
# ----------------------------------------------------------------------------

_SHIFT = 4  # sub-pixel bits for cv2 drawing
_FACE_LINES = [
    list(range(0, 17)),
    list(range(17, 22)),
    list(range(22, 27)),
    list(range(27, 31)),
    list(range(31, 36)),
    list(range(36, 42)) + [36],
    list(range(42, 48)) + [42],
    list(range(48, 60)) + [48],
    list(range(60, 68)) + [60]
]
_HAND_CHAINS = [[0, 1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12],
                [13, 14, 15, 16], [17, 18, 19, 20]]
_PALM = [0, 1, 5, 9, 13, 17]


def _background(style: SubjectStyle, scene: _Scene) -> np.ndarray:
    """Press-conference backdrop: a wall with a grid of sponsor logos."""
    h, w = scene.height, scene.width
    wall = np.array(style.wall, float)
    shade = np.linspace(1.0, 0.85, h)[:, None, None]
    img = (shade * wall[None, None]).repeat(w, 1)
    step = max(int(scene.unit * 1.6), 8)
    for row, y in enumerate(range(step // 3, h, step)):
        for x in range((row % 2) * step // 2, w, step):
            cv2.rectangle(img, (x, y), (x + step // 3, y + step // 6),
                          style.accent, -1)
    return np.clip(img, 0, 255).astype(np.uint8)


def _fix(points):
    return np.round(points * (1 << _SHIFT)).astype(np.int32)


def _render(frame, pts, style, scene, line):
    """Draw one frame from clean keypoints (pixels)."""
    u = scene.unit
    p = _fix(pts)
    thick = max(int(0.26 * u), 2)
    torso = p[[2, 5, 12, 9]]
    torso[2:, 1] = _fix(np.array([0, scene.height + 10]))[1]
    cv2.fillPoly(frame, [torso], style.shirt, line, _SHIFT)
    cv2.line(frame, p[2], p[5], style.shirt, thick, line, _SHIFT)
    frame[int(scene.table_y):] = style.table
    # Neck from the shoulders' midpoint up to the chin.
    cv2.line(frame, p[1], p[25 + 8], style.skin, max(int(0.3 * u), 2), line,
             _SHIFT)
    head = pts[[25 + 0, 25 + 16, 25 + 8, 25 + 27]]
    center = (head[0] + head[1]) / 2
    axes = (np.linalg.norm(head[1] - head[0]) / 2 * 1.08,
            np.linalg.norm(head[2] - center) * 1.1)
    angle = math.degrees(
        math.atan2(head[1, 1] - head[0, 1], head[1, 0] - head[0, 0]))
    for ear in (17, 18):
        cv2.circle(frame, p[ear], int(0.09 * u * (1 << _SHIFT)), style.skin,
                   -1, line, _SHIFT)
    cv2.ellipse(frame, _fix(center), _fix(np.array(axes)), angle, 0, 360,
                style.skin, -1, line, _SHIFT)
    # Hair: the upper half of a raised ellipse, down to the brows.
    rad = math.radians(angle)
    up = np.array([math.sin(rad), -math.cos(rad)])
    cv2.ellipse(frame, _fix(center + 0.3 * axes[1] * up),
                _fix(np.array([1.05 * axes[0], 0.8 * axes[1]])), angle, 180,
                360, style.hair, -1, line, _SHIFT)
    dark = tuple(int(0.4 * v) for v in style.skin)
    cv2.polylines(frame, [p[25 + np.array(ln)] for ln in _FACE_LINES[1:]],
                  False, dark, 1, line, _SHIFT)
    for pupil in (93, 94):
        cv2.circle(frame, p[pupil], 1 << _SHIFT, (30, 30, 30), -1, line,
                   _SHIFT)
    # Sleeves a shade darker, so arms in front of the torso stay visible.
    sleeve = tuple(int(0.7 * v) for v in style.shirt)
    for shoulder in (2, 5):
        arm = p[[shoulder, shoulder + 1, shoulder + 2]]
        cv2.polylines(frame, [arm], False, sleeve, thick, line, _SHIFT)
    finger = max(int(0.07 * u), 1)
    for hand0 in (95, 116):
        hand = p[hand0:hand0 + 21]
        cv2.fillPoly(frame, [hand[_PALM]], style.skin, line, _SHIFT)
        chains = [hand[c] for c in _HAND_CHAINS]
        # A dark rim first, so fingers stay visible over skin.
        cv2.polylines(frame, chains, False, dark, finger + 2, line, _SHIFT)
        cv2.polylines(frame, chains, False, style.skin, finger, line, _SHIFT)
    return frame


def write_skeleton_files(folder: str, vid: str, segments, keypoints) -> None:
    """Write a video's ``<vid>_label.csv`` and ``<vid>_openpose.xlsx`` into
    ``folder`` as the MiGA release lays them out.

    Args:
        folder (str): The video's skeleton folder (created by the caller).
        vid (str): Video id.
        segments: ``(class index, first frame, last frame)`` per labelled
            micro-gesture.
        keypoints (np.ndarray): ``[T, 137, 3]`` OpenPose ``x, y,
            confidence`` per frame; missed points are 0, 0, 0.
    """
    with open(osp.join(folder, f'{vid}_label.csv'), 'w', newline='') as f:
        writer = csv.writer(f, lineterminator='\n')
        for label, start, end in segments:
            writer.writerow([index_to_miga_label(label), start, end])

    # xlsxwriter streams rows (constant_memory); openpyxl is ~10x slower.
    book = xlsxwriter.Workbook(
        osp.join(folder, f'{vid}_openpose.xlsx'), {'constant_memory': True})
    book.set_properties({'created': _XLSX_CREATED})
    sheet = book.add_worksheet()
    for r, row in enumerate(keypoints.reshape(len(keypoints), -1).tolist()):
        sheet.write_row(r, 0, row)
    book.close()


def write_video_files(plan: ToyPlan, video: VideoPlan, root: str) -> int:
    """Synthesise one video and write its label table, keypoint workbook
    and mp4 under ``root``. Returns the number of frames."""
    toy = synthesize_video(plan, video)
    skeleton_parts, rgb_parts = RELEASE_DIRS[video.split]
    skel_dir = osp.join(root, *skeleton_parts, video.vid)
    rgb_dir = osp.join(root, *rgb_parts, video.vid)
    os.makedirs(skel_dir, exist_ok=True)
    os.makedirs(rgb_dir, exist_ok=True)

    write_skeleton_files(skel_dir, video.vid, video.segments, toy.keypoints)

    style = plan.subjects[video.subject]
    scene = toy.scene
    path = osp.join(rgb_dir, f'{video.vid}.mp4')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'),
                             plan.config.fps, (scene.width, scene.height))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write mp4v video {path!r}')
    background = _background(style, scene)
    try:
        for pts in toy.clean:
            writer.write(
                _render(background.copy(), pts, style, scene, cv2.LINE_AA))
    finally:
        writer.release()
    return video.num_frames


def plan_meta(plan: ToyPlan) -> dict:
    """The contents of ``toy_meta.json``."""
    cfg = plan.config
    return dict(
        seed=plan.seed,
        config=asdict(cfg),
        fps=cfg.fps,
        frame_size=list(cfg.frame_size),
        classes={str(c): IMIGUE_CLASSES[c]
                 for c in cfg.classes},
        subjects={
            str(s):
            dict(
                split=plan.subject_split[s],
                left_handed=plan.subjects[s].left_handed)
            for s in range(cfg.num_subjects)
        },
        videos={
            v.vid:
            dict(
                subject=v.subject,
                split=v.split,
                num_frames=v.num_frames,
                num_clips=len(v.segments))
            for v in plan.videos
        },
        class_counts={
            split: {
                str(c): n
                for c, n in counts.items()
            }
            for split, counts in plan.class_counts().items()
        },
        clips=plan.clips(),
    )


def _prepare_root(root: str, overwrite: bool) -> None:
    """Refuse to mix with existing data; with ``overwrite``, remove only
    what an earlier toy run wrote."""
    if not osp.isdir(root):
        if osp.exists(root):
            raise NotADirectoryError(f'{root!r} exists and is not a folder')
        return
    entries = os.listdir(root)
    if not entries:
        return
    if not overwrite:
        raise FileExistsError(f'output folder {root!r} is not empty; pass '
                              'overwrite=True (--overwrite) to replace an '
                              'earlier toy dataset')
    ours = {parts[0] for pair in RELEASE_DIRS.values() for parts in pair}
    present = ours.intersection(entries)
    if present and META_FILE not in entries:
        raise FileExistsError(
            f'{root!r} holds {sorted(present)} but no {META_FILE}: it may be '
            'the real release, so it is left alone')
    for name in present:
        shutil.rmtree(osp.join(root, name))
    if META_FILE in entries:
        os.remove(osp.join(root, META_FILE))


def make_toy_imigue(root: str,
                    seed: int = 0,
                    num_workers: int = 0,
                    overwrite: bool = False,
                    progress: bool = False,
                    **options) -> dict:
    """Write a toy iMiGUE / MiGA release under ``root``.

    Args:
        root (str): Output folder; created if missing. Must be empty unless
            ``overwrite``, which replaces an earlier toy dataset there.
        seed (int): Same seed, same label tables and keypoints.
        num_workers (int): Processes writing videos in parallel; 0 writes in
            this process. The output does not depend on it.
        overwrite (bool): See ``root``.
        progress (bool): Show a tqdm bar over videos.
        **options: Fields of :class:`ToyImigueConfig`, e.g.
            ``**TOY_PRESETS['tiny']``.

    Returns:
        dict: ``root``, ``num_videos``, ``num_frames``, clips per split and
        class counts per split.

    Raises:
        JobError: A video could not be written; the message names it.
    """
    plan = plan_toy_imigue(seed, **options)
    _prepare_root(root, overwrite)
    os.makedirs(root, exist_ok=True)
    # Longest videos first, so the last worker does not finish alone. A
    # failed video stops the run: a toy release with holes is no use.
    run_jobs(
        sorted(plan.videos, key=lambda v: -v.num_frames),
        functools.partial(write_video_files, plan, root=root),
        workers=num_workers,
        strict=True,
        name=operator.attrgetter('vid'),
        progress=progress,
        desc='toy iMiGUE',
        unit='video')

    meta = plan_meta(plan)
    with open(osp.join(root, META_FILE), 'w') as f:
        json.dump(meta, f, indent=1)
        f.write('\n')
    return dict(
        root=root,
        num_videos=len(plan.videos),
        num_frames=sum(v.num_frames for v in plan.videos),
        clips={s: sum(meta['class_counts'][s].values())
               for s in SPLITS},
        class_counts=plan.class_counts(),
    )


__all__ = [
    'DEFAULT_CLASSES', 'MOTION_CLASSES', 'RELEASE_DIRS', 'SPLITS',
    'TOY_PRESETS', 'SubjectStyle', 'ToyImigueConfig', 'ToyPlan', 'ToyVideo',
    'VideoPlan', 'long_tail_counts', 'make_toy_imigue', 'plan_meta',
    'plan_toy_imigue', 'synthesize_video', 'write_skeleton_files',
    'write_video_files'
]
