import json
import os
import signal

import pytest

from mmmg.utils.job_runner import (EXIT_INCOMPLETE, EXIT_OK, JobError,
                                   JobReport, failure_message, run_jobs)


def square(x):
    if x == 3:
        raise ValueError('three is bad')
    return x * x


def square_with_units(x, on_units):
    on_units(x)
    return x * x


def crash_on_two(x):
    if x == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return x


@pytest.mark.parametrize('workers,backend', [(0, 'process'), (2, 'process'),
                                             (2, 'thread')])
def test_results_failures_and_log_in_item_order(tmp_path, workers, backend):
    log = str(tmp_path / 'logs' / 'failures.jsonl')
    report = run_jobs(
        list(range(6)),
        square,
        workers=workers,
        backend=backend,
        failure_log=log,
        progress=False)
    assert report.done == [0, 1, 2, 4, 5]
    assert report.results == [0, 1, 4, 16, 25]
    assert report.failed == [
        dict(item='3', error='3: ValueError: three is bad')
    ]
    assert report.failure_log == log
    assert [type(e) for e in report.errors] == [ValueError]
    assert [json.loads(line) for line in open(log)] == report.failed
    assert report.exit_status == EXIT_OK
    assert report.summary(
        'numbers',
        'out') == ('5 written, 0 already done, 1 failed of 6 numbers in out\n'
                   f'failures are listed in {log}')


def test_stale_log_removed_and_no_log_without_failures(tmp_path):
    log = tmp_path / 'failures.jsonl'
    log.write_text('{"item": "stale"}\n')
    report = run_jobs([1, 2], square, failure_log=str(log), progress=False)
    assert report.failure_log is None and not log.exists()


@pytest.mark.parametrize('workers', [0, 2])
def test_strict_stops_with_one_line_naming_the_item(workers):
    with pytest.raises(JobError, match='^3: ValueError: three is bad$') as e:
        run_jobs([3, 1, 2],
                 square,
                 workers=workers,
                 strict=True,
                 progress=False)
    assert e.value.item == '3'
    assert isinstance(e.value.__cause__, ValueError)


def test_verify_skips_only_verified_outputs(tmp_path):

    def make(name):
        with open(tmp_path / name, 'w') as f:
            f.write('complete\n')
        return name

    def verified(name):
        path = tmp_path / name
        return path.exists() and path.read_text() == 'complete\n'

    (tmp_path / 'a').write_text('complete\n')
    (tmp_path / 'b').write_text('')  # zero-byte output of a killed run
    (tmp_path / 'c').write_text('compl')  # truncated
    report = run_jobs(['a', 'b', 'c', 'd'],
                      make,
                      verify=verified,
                      progress=False)
    assert report.skipped == ['a'] and report.done == ['b', 'c', 'd']
    assert all(verified(n) for n in 'abcd')
    assert run_jobs(['a', 'b'],
                    make,
                    verify=verified,
                    overwrite=True,
                    progress=False).done == ['a', 'b']


@pytest.mark.parametrize('workers', [0, 2])
def test_units_callback_and_names(workers):
    report = run_jobs([1, 2, 3],
                      square_with_units,
                      workers=workers,
                      units='frame',
                      progress=False)
    assert report.results == [1, 4, 9]


@pytest.mark.parametrize('workers', [1, 2])
def test_a_crashed_worker_fails_only_its_item(workers):
    report = run_jobs([0, 1, 2, 3],
                      crash_on_two,
                      workers=workers,
                      name=lambda x: f'item{x}',
                      progress=False)
    assert report.done == [0, 1, 3]
    assert len(report.failed) == 1
    assert report.failed[0]['error'].startswith('item2: the worker process '
                                                'died')
    with pytest.raises(JobError, match='item2: the worker process died'):
        run_jobs([2],
                 crash_on_two,
                 workers=1,
                 strict=True,
                 name=lambda x: f'item{x}',
                 progress=False)


def test_exit_status_rule():
    assert JobReport(total=0).exit_status == EXIT_OK
    assert JobReport(total=2, failed=[{}, {}]).exit_status == EXIT_INCOMPLETE
    assert JobReport(total=2, skipped=[1], failed=[{}]).exit_status == EXIT_OK
    assert JobReport(total=2, done=[1], failed=[{}]).exit_status == EXIT_OK


def test_failure_message_names_the_item_once():
    assert failure_message('v.mp4', OSError('v.mp4: gone')) == 'v.mp4: gone'
    assert failure_message('v.mp4', OSError('gone')) == \
        'v.mp4: OSError: gone'


def test_bad_arguments():
    with pytest.raises(ValueError, match='backend'):
        run_jobs([1], square, backend='cluster')
    with pytest.raises(ValueError, match='workers'):
        run_jobs([1], square, workers=-1)
