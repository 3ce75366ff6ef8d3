# The teacher-target recipe at toy size: the toy pre-training config, with
# a frozen image-like teacher (a 1-block, 24-wide ViT with tubelet 1) on
# every other frame (frame_stride=2), SMILE's setting, whose 2x4x4 token
# grid matches the student's. `checkpoint` None keeps a randomly
# initialised teacher (with a warning); point it at any checkpoint holding
# such a ViT under `prefix`.
_base_ = ['./videomae_vit_base_p16_16x4_interviews_toy.py']

model = dict(
    target=dict(
        _delete_=True,
        type='teacher',
        teacher=dict(
            type='VisionTransformer',
            img_size=64,
            patch_size=16,
            embed_dims=24,
            depth=1,
            num_heads=2,
            num_frames=2,
            tubelet_size=1,
            norm_cfg=dict(type='LN', eps=1e-6)),
        checkpoint=None,
        prefix='backbone.',
        layer=-1,
        frame_stride=2))
