# PoseC3D on the synthetic skeleton set, small enough to train on a laptop CPU in minutes.
_base_ = ['../_base_/datasets/synthetic_small.py', '../_base_/default_runtime.py']
num_classes = 18  # lists/synthetic.csv
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ResNet3dSlowOnly',
        in_channels=17,
        base_channels=16,
        num_stages=3,
        out_indices=(2, ),
        stage_blocks=(1, 1, 1),
        conv1_stride=(1, 1),
        pool1_stride=(1, 1),
        inflate=(0, 1, 1),
        spatial_strides=(2, 2, 2),
        temporal_strides=(1, 1, 2)),
    cls_head=dict(type='I3DHead', in_channels=256, num_classes=num_classes, dropout=0.5),
    test_cfg=dict(average_clips='prob'))
optimizer = dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=0.0003)
optimizer_config = dict(grad_clip=dict(max_norm=40, norm_type=2))
lr_config = dict(policy='CosineAnnealing', by_epoch=False, min_lr=0, warmup='linear', warmup_iters=20,
                 warmup_ratio=0.1)
total_epochs = 12
log_config = dict(interval=10, hooks=[dict(type='TextLoggerHook')])
evaluation = dict(interval=2, metrics=['top_k_accuracy', 'mean_class_accuracy'], topk=(1, 5))
checkpoint_config = dict(interval=2)
