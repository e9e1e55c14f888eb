# RecognizerVisecePACL on the synthetic skeleton set with the packaged all-MiniLM-L6-v2 text encoder, CPU-sized:
# a residual-MLP frame embedder and PACL frame-to-sentence pooling, every clip scored against all 18 sentences.
_base_ = [
    '../_base_/models/slowonly_r50_video_encoder.py', '../_base_/datasets/synthetic_small.py',
    '../_base_/default_runtime.py'
]
num_classes = 18  # lists/synthetic.csv
model = dict(
    type='RecognizerVisecePACL',
    # PoseC3D's ResNet3dSlowOnly, narrower (16 base channels) and shallower (one block per stage)
    video_encoder=dict(type='Visece_Video_PACL', res_out_channels=256, base_channels=16, stage_blocks=(1, 1, 1)),
    text_encoder=None,  # the architecture of the loaded weights
    embedder='mlp',
    weight_fn='softmax',
    weight_on='raw',
    train_mode='all_class',
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
