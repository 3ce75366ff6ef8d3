# The tiny Video Swin pre-trained on MA-52-format clip lists (the first step
# of the RGB stream at toy size); swin_tiny_rgb_toy.py fine-tunes from its
# checkpoint with --cfg-options load_from=... (the 52-class head is skipped).
# Tests build the clip files from the toy iMiGUE data with cut_clips.
_base_ = ['./swin_tiny_rgb_toy.py']

num_classes = 52
data_root = 'data/toy_ma52'

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
