"""PYSKL checkpoints: PoseConv3D and RGBPoseConv3D.

As released by kennymckormick/pyskl and by momiji-bit/MM-Gesture (its
``pyskl/`` fork, the MiGA-2025 skeleton and RGB+pose streams). PYSKL's
``ResNet3d`` / ``ResNet3dPathway`` (``pyskl/models/cnns/resnet3d.py``,
``resnet3d_slowfast.py``, ``rgbposeconv3d.py``) build the same module tree
as MMAction2 1.x's ``ResNet3dSlowOnly`` / ``RGBPoseConv3D``, which were
ported from it: ``conv1.conv``/``conv1.bn`` ConvModules, ``layer{i}.{j}``
bottlenecks with ``conv1..conv3`` and ``downsample``, lateral connections
``conv1_lateral`` / ``layer{i}_lateral`` (``DeConvModule``: ``conv``,
``bn``). The heads (``pyskl/models/heads/simple_head.py``,
``rgbpose_head.py``) are ``fc_cls`` and ``fc_rgb``/``fc_pose``; early
versions of the RGBPose head also had ``fc_both`` (the concatenated
features), which MMAction2 1.x's ``RGBPoseHead`` lacks. So the keys keep
their names; the conversion checks every key and shape against the config.
"""
from .layout import Layout

REFERENCE = ('kennymckormick/pyskl: pyskl/models/cnns/resnet3d.py, '
             'resnet3d_slowfast.py, rgbposeconv3d.py, '
             'heads/simple_head.py, heads/rgbpose_head.py')

PYSKL_POSEC3D = Layout(
    name='pyskl-posec3d',
    description='PYSKL PoseConv3D (ResNet3dSlowOnly + I3DHead), e.g. '
    'MM-Gesture pyskl/configs/posec3d/slowonly_r50_iMiGUE_36',
    reference=REFERENCE,
    rules=(),
    signature=('backbone.conv1.conv.weight', 'backbone.layer1.0.conv1.'
               'conv.weight', 'cls_head.fc_cls.weight'),
    absent=('backbone.conv1_lateral.conv.weight', ))

PYSKL_RGBPOSECONV3D = Layout(
    name='pyskl-rgbposeconv3d',
    description='PYSKL RGBPoseConv3D (RGB + pose pathways, RGBPoseHead), '
    'e.g. MM-Gesture pyskl/configs/rgbpose_conv3d/rgbJoint_conv3d.py',
    reference=REFERENCE,
    rules=(),
    signature=('backbone.rgb_path.conv1.conv.weight',
               'backbone.pose_path.conv1.conv.weight'),
    droppable=(('cls_head.fc_both.*', 'the early PYSKL RGBPose head\'s '
                'classifier of the concatenated features; MMAction2 1.x\'s '
                'RGBPoseHead has none'), ))
