"""The stand-ins for MMAction2 1.2.0's broken model packages, on a fake
``mmaction`` tree shaped like the 1.2.0 wheel (the real 1.2.0 stack runs in
CI through tools/stack_check.sh)."""
import subprocess
import sys
import textwrap

IMPORT = textwrap.dedent('''
    import sys
    from mmmg.utils.mmaction_compat import stub_broken_models
    stub_broken_models()
    import mmaction.models
    print(sorted(k for k in sys.modules if 'drn' in k or 'vindlu' in k))
    try:
        mmaction.models.localizers.DRN()
    except ImportError as e:
        print('DRN:', e)
''')


def fake_mmaction(root, with_drn):
    files = {
        'mmaction/__init__.py':
        '',
        'mmaction/models/__init__.py':
        'from . import localizers, multimodal\n',
        'mmaction/models/localizers/__init__.py':
        'from .drn.drn import DRN\n',
        'mmaction/models/multimodal/__init__.py':
        'from .vindlu import *\n',
        # As in 1.2.0: it fails to import with transformers 5.
        'mmaction/models/multimodal/vindlu/__init__.py':
        'from transformers.modeling_utils import apply_chunking_to_forward\n',
    }
    if with_drn:
        files['mmaction/models/localizers/drn/__init__.py'] = ''
        files['mmaction/models/localizers/drn/drn.py'] = 'DRN = object\n'
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def run(root):
    return subprocess.run([sys.executable, '-c', IMPORT],
                          env={
                              'PYTHONPATH': str(root),
                              'PATH': ''
                          },
                          capture_output=True,
                          text=True)


def test_missing_drn_and_vindlu_get_stand_ins(tmp_path):
    fake_mmaction(tmp_path, with_drn=False)
    proc = run(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert ("['mmaction.models.localizers.drn', "
            "'mmaction.models.localizers.drn.drn', "
            "'mmaction.models.multimodal.vindlu']") in proc.stdout
    assert 'DRN: DRN is missing from this MMAction2 install' in proc.stdout


def test_a_present_drn_is_left_alone(tmp_path):
    fake_mmaction(tmp_path, with_drn=True)
    proc = run(tmp_path)
    assert proc.returncode == 0, proc.stderr
    # The real (here: fake) package is imported, not a stand-in.
    assert "'mmaction.models.localizers.drn'" in proc.stdout
    assert 'DRN:' not in proc.stdout
