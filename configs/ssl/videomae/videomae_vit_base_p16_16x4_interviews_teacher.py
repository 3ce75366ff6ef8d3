# Masked video modelling with a feature target (SMILE-style distillation):
# the pre-training recipe of videomae_vit_base_p16_16x4_interviews.py, but
# the decoder regresses the token features of a frozen teacher at the
# masked positions instead of pixels.
#
# The teacher sees the whole clip; its target is the output of block
# `layer` (-1: the last), z-scored per token over its channels (LayerNorm
# without affine parameters). Its token grid must equal the student's
# (8x14x14 here): a video ViT with 2x16x16 tubelets on all 16 frames
# (below), or an image ViT (tubelet_size=1, num_frames=8) on every other
# frame with frame_stride=2, SMILE's CLIP setting (set its own input
# normalisation with `mean`/`std`, e.g. CLIP's
# [122.771, 116.746, 104.094] / [68.501, 66.632, 70.323]). The teacher is an
# MMAction2 VisionTransformer; `checkpoint` is any checkpoint holding its
# weights under `prefix` (this repo's pre-training or fine-tuning
# checkpoints, MMAction2's VideoMAE checkpoints: 'backbone.'; a bare
# backbone: ''). It is loaded when the runner initialises the model, kept
# frozen in eval mode, and is not saved in this run's checkpoints (the
# fine-tuning step needs only `backbone.*`).
_base_ = ['./videomae_vit_base_p16_16x4_interviews.py']

teacher_checkpoint = 'checkpoints/videomae_vit_base_teacher.pth'
model = dict(
    target=dict(
        _delete_=True,
        type='teacher',
        teacher=dict(
            type='VisionTransformer',
            img_size=224,
            patch_size=16,
            embed_dims=768,
            depth=12,
            num_heads=12,
            mlp_ratio=4,
            qkv_bias=True,
            num_frames=16,
            tubelet_size=2,
            norm_cfg=dict(type='LN', eps=1e-6)),
        checkpoint=teacher_checkpoint,
        prefix='backbone.',
        layer=-1,
        frame_stride=1))
