"""Tiny ONNX models exported once per test session."""
import pytest

from .tiny_onnx import export_detector, export_pose_model


@pytest.fixture(scope='session')
def pose_onnx(tmp_path_factory):
    return export_pose_model(tmp_path_factory.mktemp('onnx') / 'pose.onnx')


@pytest.fixture(scope='session')
def det_onnx(tmp_path_factory):
    return export_detector(tmp_path_factory.mktemp('onnx') / 'det.onnx')
