# The iMiGUE fine-tuning recipe started from the official VideoMAE ViT-B/16
# (MCG-NJU/VideoMAE: Kinetics-400 pre-training, 1600 epochs, then
# Kinetics-400 fine-tuning) as converted and hosted by the MMAction2 model
# zoo (configs/recognition/videomae of MMAction2 1.x; mmengine downloads it
# on first use), instead of our own interview pre-training. Its backbone
# keys are exactly ours; only the 400-class layer is skipped. For the
# original VideoMAE pre-training checkpoints (before Kinetics fine-tuning),
# convert them with tools/convert_checkpoint.py and pass load_from.
_base_ = ['./vit_base_p16_16x4_imigue_finetune.py']

load_from = ('https://download.openmmlab.com/mmaction/v1.0/recognition/'
             'videomae/vit-base-p16_videomae-k400-pre_16x4x1_kinetics-400_'
             '20221013-860a3cd3.pth')
allow_partial_keys = ['cls_head.fc_cls.*']
