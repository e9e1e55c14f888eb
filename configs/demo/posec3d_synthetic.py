# PoseC3D on the synthetic skeleton set, small enough to train on a laptop CPU in minutes.
_base_ = [
    '../_base_/models/posec3d_slowonly_r50.py', '../_base_/datasets/synthetic_small.py',
    '../_base_/default_runtime.py'
]
num_classes = 18  # lists/synthetic.csv
# PoseC3D's ResNet3dSlowOnly, narrower (16 base channels) and shallower (one block per stage)
model = dict(
    backbone=dict(base_channels=16, stage_blocks=(1, 1, 1)),
    cls_head=dict(in_channels=256, num_classes=num_classes))
optimizer = dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=0.0003)
optimizer_config = dict(grad_clip=dict(max_norm=40, norm_type=2))
lr_config = dict(policy='CosineAnnealing', by_epoch=False, min_lr=0, warmup='linear', warmup_iters=20,
                 warmup_ratio=0.1)
total_epochs = 12
log_config = dict(interval=10, hooks=[dict(type='TextLoggerHook')])
evaluation = dict(interval=2, metrics=['top_k_accuracy', 'mean_class_accuracy'], topk=(1, 5))
checkpoint_config = dict(interval=2)
