"""The tools' error convention: one line, exit status 2, --debug."""
import os
import warnings

import pytest

from mmmg.utils.cli import (DataFileError, ToolError, check_output_dir,
                            check_output_file, cli_main, error_line,
                            quiet_mmcv_lite)


def _main_raising(error):

    def main(argv):
        raise error

    return main


def test_known_error_is_one_line_with_status_2(capsys, monkeypatch):
    monkeypatch.setattr('sys.argv', ['tools/x.py'])
    with pytest.raises(SystemExit) as exit_info:
        cli_main(_main_raising(ToolError('a.pkl: bad\n  thing; fix it')), [])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == 'x.py: error: a.pkl: bad thing; fix it\n'
    with pytest.raises(SystemExit):
        cli_main(_main_raising(FileNotFoundError(2, 'No such file', 'b')), [])
    assert capsys.readouterr().err == 'x.py: error: b: No such file\n'


def test_debug_shows_traceback_and_bugs_keep_theirs(capsys, monkeypatch):
    monkeypatch.setattr('sys.argv', ['tools/x.py'])
    with pytest.raises(SystemExit):
        cli_main(_main_raising(DataFileError('bad sample')), ['--debug'])
    err = capsys.readouterr().err
    assert 'Traceback' in err and err.endswith('x.py: error: bad sample\n')
    with pytest.raises(ZeroDivisionError):
        cli_main(_main_raising(ZeroDivisionError('bug')), [])


def test_error_line_strips_wrappers():
    # mmengine's registry and torch's DataLoader workers wrap the message.
    assert error_line(
        DataFileError(
            'class `MGPoseDataset` in mmmg/datasets/pose_dataset.py: '
            "a.pkl: no split 'x'")) == "a.pkl: no split 'x'"
    worker = DataFileError(
        'Caught DataFileError in DataLoader worker process 0.\nOriginal '
        'Traceback (most recent call last):\n  File "x.py", line 1\n'
        "mmmg.utils.cli.DataFileError: l.txt: sample 'b': cannot decode")
    assert error_line(worker) == "l.txt: sample 'b': cannot decode"


def test_output_checks_create_nothing(tmp_path):
    (tmp_path / 'file').write_text('')
    check_output_dir(str(tmp_path / 'new' / 'dir'), '--work-dir')
    check_output_file(str(tmp_path / 'new' / 'out.pkl'), '--dump')
    check_output_file(str(tmp_path / 'file'), '--dump')  # replaced later
    assert os.listdir(tmp_path) == ['file']
    with pytest.raises(ToolError, match="--work-dir '.*file' is a file"):
        check_output_dir(str(tmp_path / 'file'), '--work-dir')
    with pytest.raises(
            ToolError, match=r"--dump '.*file/x\.pkl': .* is a "
            'file'):
        check_output_file(str(tmp_path / 'file' / 'x.pkl'), '--dump')
    with pytest.raises(ToolError, match='is a folder'):
        check_output_file(str(tmp_path), '--dump')


@pytest.mark.skipif(not os.path.isdir('/proc/self'), reason='needs /proc')
def test_unwritable_folder_found_even_as_root():
    # Writes fail in /proc whoever runs the test (os.access would pass root).
    with pytest.raises(ToolError, match="'/proc' is not writable"):
        check_output_dir('/proc/mmmg_work', '--work-dir')


def test_quiet_mmcv_lite_filters_only_that_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        quiet_mmcv_lite()
        warnings.warn('Fail to import ``MultiScaleDeformableAttention`` '
                      'from ``mmcv.ops.multi_scale_deform_attn``')
        warnings.warn('another warning')
    assert [str(w.message) for w in caught] == ['another warning']
