# Video Swin-T pre-training on MA-52 (52 micro-action classes), the first
# step of the MiGA-2025 RGB stream; swin_tiny_rgb_imigue.py fine-tunes from
# its checkpoint. Same recipe; clips are the MA-52 clip files. Train on the
# 7 body-level classes instead with
#   --cfg-options model.cls_head.num_classes=7 \
#       train_dataloader.dataset.label_level=body \
#       val_dataloader.dataset.label_level=body
_base_ = ['./swin_tiny_rgb_imigue.py']

num_classes = 52
data_root = 'data/ma52'
load_from = None

model = dict(cls_head=dict(num_classes=num_classes))
dataset = dict(type='MA52Dataset', list_format='clip', label_level='action')
train_dataloader = dict(
    dataset=dict(
        dataset,
        ann_file=f'{data_root}/train_list_videos.txt',
        data_prefix=dict(video=f'{data_root}/train')))
val_dataloader = dict(
    dataset=dict(
        dataset,
        ann_file=f'{data_root}/val_list_videos.txt',
        data_prefix=dict(video=f'{data_root}/val')))
test_dataloader = dict(
    dataset=dict(
        dataset,
        ann_file=f'{data_root}/val_list_videos.txt',
        data_prefix=dict(video=f'{data_root}/val')))
