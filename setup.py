import os.path as osp
from setuptools import find_packages, setup


def read_requirements(path='requirements.txt'):
    here = osp.dirname(osp.abspath(__file__))
    with open(osp.join(here, path)) as f:
        return [
            line.split('#')[0].strip() for line in f
            if line.split('#')[0].strip()
        ]


def read_version():
    scope = {}
    with open(
            osp.join(osp.dirname(osp.abspath(__file__)), 'mmmg',
                     'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='mmmg',
    version=read_version(),
    description='Micro-gesture recognition on MMAction2: iMiGUE/MiGA, SMG, '
    'MA-52 datasets, skeleton and video streams, ensembles',
    long_description=open(
        osp.join(osp.dirname(osp.abspath(__file__)), 'README.md')).read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmmg', 'mmmg.*']),
    python_requires='>=3.9',
    install_requires=read_requirements(),
    extras_require={
        # Monocular depth videos (data_prep/make_depth_videos.py).
        'depth': ['transformers>=4.45'],
        # The toy iMiGUE release (data_prep/make_toy_imigue.py) writes the
        # skeleton spreadsheets with xlsxwriter.
        'toy': ['xlsxwriter>=3.1'],
        # The suite runs on the toy release and exercises the depth converter
        # with a tiny random model.
        'tests': [
            'pytest>=7', 'xlsxwriter>=3.1', 'transformers>=4.45',
            'onnxruntime>=1.16', 'onnx>=1.15'
        ],
        # The linters CI runs (tools/lint.sh, settings in setup.cfg).
        'lint': ['flake8>=7', 'isort>=5', 'yapf>=0.40'],
        # Pose extraction with ONNX Runtime (tools/extract_pose.py).
        'pose': ['onnxruntime>=1.16'],
        # MMPose-based pose extraction. MMPose 1.3.2 accepts mmcv >= 2.0.0rc4
        # and mmdet < 3.3.0, but its models import compiled mmcv ops: build
        # mmcv 2.1.x for your torch, next to MMAction2 1.2.0 (the
        # mmaction12 stack; 1.1.0 refuses mmcv >= 2.1) or in its own
        # environment, and never beside mmcv-lite.
        'mmpose': ['mmpose>=1.3.2,<1.4', 'mmdet>=3.0.0,<3.3.0'],
    },
    license='Apache-2.0',
    zip_safe=False,
)
