"""Run one function over many items: the batch runner of every data tool.

Release converters, clip cutting, Taylor / flow / depth videos, SSL clip
sampling, toy generation and pose extraction all do per-item work the same
way, through :func:`run_jobs`:

- **Workers**: ``workers=0`` runs the items in this process; ``workers>=1``
  runs them in that many worker processes (``backend='process'``, the
  default) or threads (``backend='thread'``, for work that releases the
  GIL). Processes get one item at a time, so a worker that dies (a
  segfault in a decoder, the OOM killer) fails only its own item and a
  fresh worker takes over the rest.
- **Progress**: a tqdm bar over the items with rate and ETA; with ``units``
  (e.g. ``'frame'``) a second bar counts what the function reports through
  its ``on_units(n)`` callback.
- **Failures**: an exception of the function fails its item; it is kept
  in :attr:`JobReport.errors` and as the ``__cause__`` of
  :class:`JobError`, so callers can re-raise their own error types. The
  message names the item (``'<item>: <Error>: <text>'``, or the
  exception's own text when it already starts with the item's name). Each
  failure is logged at once as one JSON line ``{<fields of the item>,
  "error": ...}`` to the failure log, when one is given (a stale log of an
  earlier run is removed first), and the run goes on; ``strict=True``
  stops at the first failure with :class:`JobError` instead.
- **Resume**: with a ``verify(item) -> bool`` hook, items whose output is
  verified (readable, the expected length, or a completion record written
  after the file) are skipped, unless ``overwrite``. Merely existing files
  never count: a zero-byte or truncated output of a killed run is redone.
- **Summary and exit status** (:meth:`JobReport.summary`,
  :attr:`JobReport.exit_status`), the same for every tool:

  * ``0`` (:data:`EXIT_OK`): every item done or already done, or some
    failed and were logged while the others were done;
  * ``1`` (:data:`EXIT_INCOMPLETE`): every item failed (none done, none
    already done); tools also return it when a split or output would be
    left empty;
  * ``2`` (:data:`EXIT_STOPPED`): a strict run stopped at a failure
    (:class:`JobError`; tools re-raise it as a ``ToolError``, which
    ``mmmg.utils.cli.cli_main`` prints as one line naming the item).

The per-item function is called ``fn(item)``, or ``fn(item, on_units)``
with ``units``; its return value, which must pickle for processes, is kept
in :attr:`JobReport.results`. Under the ``fork`` start method the function
and hooks are inherited by the workers; under ``spawn`` they must pickle. A
function may name the start method it needs in a ``start_method``
attribute (``'spawn'`` for torch models).
"""
import collections
import json
import multiprocessing
import os
import os.path as osp
import pickle
import sys
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import (Any, Callable, Dict, Iterator, List, Optional, Sequence,
                    Tuple)

from tqdm import tqdm

EXIT_OK = 0
EXIT_INCOMPLETE = 1
EXIT_STOPPED = 2
BACKENDS = ('process', 'thread')

UnitCallback = Callable[[int], None]
# (position in the work list, failure entry or None, result or exception)
Outcome = Tuple[int, Optional[dict], Any]


class JobError(RuntimeError):
    """An item failed in a strict run.

    Args:
        item (str): The item's name.
        error (str): The failure, starting with the item's name.
    """

    def __init__(self, item: str, error: str) -> None:
        self.item = item
        self.error = error
        super().__init__(error)


@dataclass
class JobReport:
    """What a run did, in item order.

    Attributes:
        total (int): Items given to the run.
        done (list): Items the function completed.
        results (list): The function's return value for each done item.
        skipped (list): Items whose output was already verified.
        failed (list[dict]): The failure log entry of each failed item.
        errors (list): The exception of each failed item, where it could
            be brought back (None for a crashed worker or an exception
            that does not pickle).
        failure_log (str, optional): The failure log, when it was written.
    """
    total: int = 0
    done: List[Any] = field(default_factory=list)
    results: List[Any] = field(default_factory=list)
    skipped: List[Any] = field(default_factory=list)
    failed: List[dict] = field(default_factory=list)
    errors: List[Optional[BaseException]] = field(default_factory=list)
    failure_log: Optional[str] = None

    @property
    def exit_status(self) -> int:
        """:data:`EXIT_INCOMPLETE` when every item failed, else
        :data:`EXIT_OK` (see the module docstring)."""
        if self.failed and not (self.done or self.skipped):
            return EXIT_INCOMPLETE
        return EXIT_OK

    def summary(self,
                noun: str = 'items',
                where: Optional[str] = None,
                detail: Optional[str] = None) -> str:
        """One line of counts, plus where the failures are listed.

        Args:
            noun (str): What the items are, plural.
            where (str, optional): The output location.
            detail (str, optional): Said in brackets after the written
                count, e.g. ``'120 frames'``.
        """
        line = (f'{len(self.done)} written' +
                (f' ({detail})' if detail else '') +
                f', {len(self.skipped)} already done, {len(self.failed)} '
                f'failed of {self.total} {noun}' +
                (f' in {where}' if where else ''))
        if self.failed and self.failure_log:
            line += f'\nfailures are listed in {self.failure_log}'
        return line


def failure_message(name: str, error: BaseException) -> str:
    """``'<name>: <Error>: <text>'``, or the error's text when it already
    starts with ``name``."""
    text = str(error)
    if text.startswith(f'{name}: '):
        return text
    return f'{name}: {type(error).__name__}: {text}'


@dataclass(frozen=True)
class _NameField:
    """Failure log fields of an item by default: its name."""
    name: Callable[[Any], str]

    def __call__(self, item: Any) -> dict:
        return dict(item=self.name(item))


@dataclass(frozen=True)
class _Work:
    """What a worker needs to run an item; inherited or pickled."""
    fn: Callable
    name: Callable[[Any], str]
    fields: Callable[[Any], dict]
    units: bool


def _attempt(work: _Work, index: int, item: Any,
             on_units: UnitCallback) -> Outcome:
    """Run one item; failures are returned so the caller picks skip or
    stop."""
    try:
        result = work.fn(item, on_units) if work.units else work.fn(item)
        return index, None, result
    except Exception as e:  # one bad item must not end the run
        entry = dict(work.fields(item))
        entry['error'] = failure_message(work.name(item), e)
        return index, entry, _portable(e)


def _portable(error: BaseException) -> Optional[BaseException]:
    """``error`` if it survives the trip from a worker process, else None.
    """
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # custom __init__ signatures, unpicklable members
        return None
    return error


# -------------------------------------------------------------- backends --
def _run_inline(work: _Work, todo: Sequence,
                on_units: UnitCallback) -> Iterator[Outcome]:
    for index, item in enumerate(todo):
        yield _attempt(work, index, item, on_units)


def _run_in_threads(work: _Work, todo: Sequence, workers: int,
                    on_units: UnitCallback) -> Iterator[Outcome]:
    lock = threading.Lock()

    def locked_units(n):
        with lock:
            on_units(n)

    pool = ThreadPoolExecutor(max_workers=min(workers, len(todo)))
    try:
        futures = [
            pool.submit(_attempt, work, index, item, locked_units)
            for index, item in enumerate(todo)
        ]
        for future in as_completed(futures):
            yield future.result()
    finally:
        # Stop early (strict mode, Ctrl-C) without starting queued items.
        pool.shutdown(wait=True, cancel_futures=True)


def _worker_loop(work: _Work, tasks, events, threads: int,
                 init: Optional[Callable[[], None]]) -> None:
    """A worker process: run the items sent to it until it gets None."""
    # Each worker gets its share of the cores for OpenMP and torch.
    # OpenCV's pool is left alone: cv2.setNumThreads hangs in a child forked
    # after the parent used that pool.
    os.environ.setdefault('OMP_NUM_THREADS', str(threads))
    if 'torch' in sys.modules:
        sys.modules['torch'].set_num_threads(threads)
    if init is not None:
        init()
    for index, item in iter(tasks.recv, None):
        outcome = _attempt(work, index, item, lambda n: events.send(
            ('units', n)))
        events.send(('done', outcome))


@dataclass
class _Slot:
    """A worker process, its two pipes and the item it holds."""
    proc: Any
    tasks: Any
    events: Any
    index: Optional[int] = None


class _ProcessSupervisor:
    """Worker processes fed one item at a time.

    Each worker has its own pipes, written synchronously, so a worker killed
    at any moment cannot leave a shared queue locked. When a worker dies its
    item is known: it is reported as failed and a fresh worker takes over
    the rest. ``multiprocessing.Pool`` would hang instead, and
    ``ProcessPoolExecutor`` fails every queued item.
    """

    def __init__(self, work: _Work, todo: Sequence, workers: int,
                 on_units: UnitCallback, start_method: Optional[str],
                 init: Optional[Callable[[], None]]) -> None:
        self.work, self.todo, self.on_units = work, todo, on_units
        self.init = init
        self.ctx = multiprocessing.get_context(start_method)
        self.threads = max(1, (os.cpu_count() or 1) // workers)
        self.pending = collections.deque(range(len(todo)))
        self.slots = [self.start() for _ in range(min(workers, len(todo)))]

    def start(self) -> _Slot:
        task_out, task_in = self.ctx.Pipe(duplex=False)
        event_out, event_in = self.ctx.Pipe(duplex=False)
        proc = self.ctx.Process(
            target=_worker_loop,
            daemon=True,
            args=(self.work, task_out, event_in, self.threads, self.init))
        proc.start()
        task_out.close()  # the worker's ends
        event_in.close()
        slot = _Slot(proc, task_in, event_out)
        self.feed(slot)
        return slot

    def feed(self, slot: _Slot) -> None:
        slot.index = self.pending.popleft() if self.pending else None
        try:  # None retires the worker
            slot.tasks.send(None if slot.index is None else (
                slot.index, self.todo[slot.index]))
        except OSError:
            pass  # it died; its sentinel tells

    def handle(self, slot: _Slot, message) -> Optional[Outcome]:
        """Handle one message; return a finished item's outcome, if any."""
        kind, payload = message
        if kind == 'units':
            self.on_units(payload)
            return None
        self.feed(slot)
        return payload

    def crashed(self, index: int, exitcode: Optional[int]) -> Outcome:
        item = self.todo[index]
        entry = dict(self.work.fields(item))
        entry['error'] = (
            f'{self.work.name(item)}: the worker process died (exit code '
            f'{exitcode}) on this item: a crash in native code (decoder, '
            'model) or out of memory')
        return index, entry, None

    def bury(self, n: int) -> Iterator[Outcome]:
        """Outcomes of dead worker ``n``: what it sent, then its item."""
        slot = self.slots[n]
        index = slot.index
        while slot.index is not None and slot.events.poll():
            try:
                outcome = self.handle(slot, slot.events.recv())
            except EOFError:
                break
            if outcome is not None:
                yield outcome
        slot.proc.join()
        slot.tasks.close()
        slot.events.close()
        if slot.index != index:
            # It died after finishing ``index``: the item fed since then
            # never reached it.
            if slot.index is not None:
                self.pending.appendleft(slot.index)
            index = None
        if self.pending:
            self.slots[n] = self.start()
        else:
            slot.index = None
        if index is not None:
            yield self.crashed(index, slot.proc.exitcode)

    def run(self) -> Iterator[Outcome]:
        try:
            while True:
                busy = [
                    n for n, s in enumerate(self.slots) if s.index is not None
                ]
                if not busy:
                    return
                watched = {self.slots[n].events: n for n in busy}
                dead = {self.slots[n].proc.sentinel: n for n in busy}
                for ready in wait(list(watched) + list(dead)):
                    # A slot buried in this loop has a fresh worker.
                    if ready in watched and \
                            self.slots[watched[ready]].events is ready and \
                            ready.poll():
                        slot = self.slots[watched[ready]]
                        try:
                            outcome = self.handle(slot, ready.recv())
                        except EOFError:
                            continue  # died; its sentinel tells
                        if outcome is not None:
                            yield outcome
                    elif ready in dead and \
                            self.slots[dead[ready]].proc.sentinel == ready:
                        yield from self.bury(dead[ready])
        finally:
            self.stop()

    def stop(self) -> None:
        # Normal end: every worker got None and exits. Strict stop or
        # Ctrl-C: do not wait for the running items.
        for slot in self.slots:
            if slot.index is not None and slot.proc.is_alive():
                slot.proc.terminate()
            slot.proc.join()


# ------------------------------------------------------------------- run --
class _FailureLog:
    """JSON lines of failures, opened at the first one; one flushed line
    per failure, so the log survives a crash of the run."""

    def __init__(self, path: Optional[str]) -> None:
        self.path = path
        self.file = None
        if path and osp.exists(path):
            os.remove(path)  # a stale log of an earlier run

    def write(self, entry: dict) -> None:
        if self.path is None:
            return
        if self.file is None:
            os.makedirs(osp.dirname(osp.abspath(self.path)), exist_ok=True)
            self.file = open(self.path, 'a')
        self.file.write(json.dumps(entry) + '\n')
        self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def _split_done(items: Sequence, verify: Optional[Callable[[Any], bool]],
                overwrite: bool) -> Tuple[list, list]:
    """``(skipped, todo)``: items with a verified output, and the rest."""
    if verify is None or overwrite:
        return [], list(items)
    skipped, todo = [], []
    for item in items:
        (skipped if verify(item) else todo).append(item)
    return skipped, todo


def _outcomes(work: _Work, todo: Sequence, workers: int, backend: str,
              on_units: UnitCallback, start_method: Optional[str],
              worker_init: Optional[Callable[[], None]]) -> Iterator[Outcome]:
    if workers < 1 or not todo:
        if worker_init is not None:
            worker_init()
        return _run_inline(work, todo, on_units)
    if backend == 'thread':
        return _run_in_threads(work, todo, workers, on_units)
    start_method = start_method or getattr(work.fn, 'start_method', None)
    return _ProcessSupervisor(work, todo, workers, on_units, start_method,
                              worker_init).run()


def run_jobs(items: Sequence,
             fn: Callable,
             workers: int = 0,
             backend: str = 'process',
             verify: Optional[Callable[[Any], bool]] = None,
             overwrite: bool = False,
             strict: bool = False,
             failure_log: Optional[str] = None,
             name: Callable[[Any], str] = str,
             fields: Optional[Callable[[Any], dict]] = None,
             progress: bool = True,
             desc: str = 'items',
             unit: str = 'item',
             units: Optional[str] = None,
             start_method: Optional[str] = None,
             worker_init: Optional[Callable[[], None]] = None) -> JobReport:
    """Run ``fn`` on every item (see the module docstring).

    Args:
        items (Sequence): The work; items must pickle for processes.
        fn (callable): ``fn(item)``, or ``fn(item, on_units)`` with
            ``units``.
        workers (int): 0 runs in this process; otherwise worker processes
            or threads.
        backend (str): ``'process'`` or ``'thread'``.
        verify (callable, optional): ``verify(item)`` is True when the
            item's output exists and is verified complete; such items are
            skipped (resume).
        overwrite (bool): Redo items even when ``verify`` passes.
        strict (bool): Raise :class:`JobError` at the first failure instead
            of logging it and going on.
        failure_log (str, optional): JSON lines log of this run's failures.
        name (callable): An item's name in messages.
        fields (callable, optional): An item's fields in the failure log;
            by default ``{'item': name(item)}``.
        progress (bool): Show progress bars.
        desc (str): Label of the item bar.
        unit (str): Unit of the item bar.
        units (str, optional): Unit of a second bar fed by ``on_units``.
        start_method (str, optional): Multiprocessing start method; defaults
            to ``fn.start_method`` where ``fn`` has one.
        worker_init (callable, optional): Called once in each worker
            process (and in this process when ``workers=0``).

    Returns:
        JobReport: Done, skipped and failed items, in item order.
    """
    if backend not in BACKENDS:
        raise ValueError(f'backend must be one of {BACKENDS}, got {backend!r}')
    if workers < 0:
        raise ValueError(f'workers must be >= 0, got {workers}')
    report = JobReport(total=len(items))
    report.skipped, todo = _split_done(items, verify, overwrite)
    log = _FailureLog(failure_log)
    work = _Work(fn, name, fields or _NameField(name), units is not None)
    item_bar = tqdm(
        total=len(items),
        initial=len(report.skipped),
        desc=desc,
        unit=unit,
        disable=not progress,
        position=0)
    unit_bar = tqdm(
        desc=units,
        unit=units or 'it',
        position=1,
        disable=not progress or units is None)
    outcomes = _outcomes(work, todo, workers, backend, unit_bar.update,
                         start_method, worker_init)
    finished: Dict[int, Outcome] = {}
    try:
        for outcome in outcomes:
            item_bar.update()
            index, entry, error = finished[outcome[0]] = outcome
            if entry is None:
                continue
            if strict:
                # The item's own exception, where it came back, is the
                # cause: callers may re-raise their known error types.
                raise JobError(name(todo[index]), entry['error']) from error
            log.write(entry)
            report.failure_log = log.path
            tqdm.write(f'skipped {entry["error"]}', file=sys.stderr)
    finally:
        # Closing the generator now stops the workers before an error
        # leaves.
        outcomes.close()
        log.close()
        unit_bar.close()
        item_bar.close()
    for index, item in enumerate(todo):  # item order, not completion order
        _, entry, result = finished[index]
        if entry is None:
            report.done.append(item)
            report.results.append(result)
        else:
            report.failed.append(entry)
            report.errors.append(result)
    return report
