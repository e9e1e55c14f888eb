# The CPU demos' schedule on the synthetic set (45 steps per epoch): AdamW with the text encoder at 1/20 of the
# learning rate, cosine decay per iteration after 20 warm-up steps, 12 epochs, evaluation and a checkpoint every 2.
# posec3d_synthetic.py replaces the optimizer (SGD); everything else is shared. The runtime is default_runtime.py
# with the demos' logging, evaluation and checkpoint intervals.
_base_ = ['../default_runtime.py']
optimizer = dict(type='AdamW', lr=2e-3, weight_decay=0.01,
                 paramwise_cfg=dict(custom_keys={'text_encoder': dict(lr_mult=0.05)}))
optimizer_config = dict(grad_clip=dict(max_norm=40, norm_type=2))
lr_config = dict(policy='CosineAnnealing', by_epoch=False, min_lr=0, warmup='linear', warmup_iters=20,
                 warmup_ratio=0.1)
total_epochs = 12
log_config = dict(interval=10)
evaluation = dict(interval=2)
checkpoint_config = dict(interval=2)
