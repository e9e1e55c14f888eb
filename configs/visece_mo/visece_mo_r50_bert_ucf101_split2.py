# RecognizerViseceMo on UCF101 split 2, joint heatmaps: the Visece recipe plus momentum distillation.
_base_ = [
    '../_base_/models/visece_mo_r50_bert.py', '../_base_/datasets/posec3d_joint.py',
    '../_base_/schedules/adamw_cosine_24e.py', '../_base_/default_runtime.py'
]
ann_file = 'data/ucf101/ucf101_hrnet.pkl'
model = dict(text_lists='lists/ucf101.csv', num_classes=101, momentum=0.995, queue_size=2048, alpha=0.4)
data = dict(
    train=dict(dataset=dict(ann_file=ann_file, split='train2')),
    val=dict(ann_file=ann_file, split='test2'),
    test=dict(ann_file=ann_file, split='test2'))
# learning rates (the seed's best Mo run, 92.66% on NTU60 XSub): 1e-3 base (projections, temperature),
# 1e-3 x 10 = 1e-2 for the video encoder, 1e-3 x 0.01 = 1e-5 for the text encoder (8 GPUs x 16 clips)
optimizer = dict(
    lr=1e-3, paramwise_cfg=dict(custom_keys={'video_encoder': dict(lr_mult=10.), 'text_encoder': dict(lr_mult=0.01)}))
