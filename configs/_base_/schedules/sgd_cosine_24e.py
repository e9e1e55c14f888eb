# pyskl's PoseC3D schedule: SGD, cosine decay per iteration, 24 epochs over the 10x repeated training set.
optimizer = dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=0.0003)  # lr for 8 GPUs x 16 clips
optimizer_config = dict(grad_clip=dict(max_norm=40, norm_type=2))
lr_config = dict(policy='CosineAnnealing', by_epoch=False, min_lr=0)
total_epochs = 24
