# RecognizerVisece on the synthetic skeleton set with the packaged all-MiniLM-L6-v2 text encoder: the main job of
# `make demo`, offline and CPU-sized. Classification = the nearest class sentence in the shared embedding space.
_base_ = [
    '../_base_/models/slowonly_r50_video_encoder.py', '../_base_/datasets/synthetic_small.py',
    '../_base_/default_runtime.py'
]
num_classes = 18  # lists/synthetic.csv
model = dict(
    type='RecognizerVisece',
    # PoseC3D's ResNet3dSlowOnly, narrower (16 base channels) and shallower (one block per stage); the Linear maps
    # its 256-d frames to MiniLM's width
    video_encoder=dict(
        type='Visece_Video', res_out_channels=256, output_channels=384, base_channels=16, stage_blocks=(1, 1, 1)),
    text_encoder=None,  # the architecture of the loaded weights
    embed_dim=128,
    frozen_bert=False,
    text_encoder_init='minilm',
    text_lists='lists/synthetic.csv',
    num_classes=num_classes,
    test_cfg=dict(average_clips='prob'))
optimizer = dict(type='AdamW', lr=2e-3, weight_decay=0.01,
                 paramwise_cfg=dict(custom_keys={'text_encoder': dict(lr_mult=0.05)}))
optimizer_config = dict(grad_clip=dict(max_norm=40, norm_type=2))
lr_config = dict(policy='CosineAnnealing', by_epoch=False, min_lr=0, warmup='linear', warmup_iters=20,
                 warmup_ratio=0.1)
total_epochs = 12
log_config = dict(interval=10, hooks=[dict(type='TextLoggerHook')])
evaluation = dict(interval=2, metrics=['top_k_accuracy', 'mean_class_accuracy'], topk=(1, 5))
checkpoint_config = dict(interval=2)
