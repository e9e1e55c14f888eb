# Fine-tuning schedule (HMDB51 / UCF101 from a Kinetics-400 PoseC3D): SGD, cosine decay, 12 epochs.
optimizer = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001)  # lr for 8 GPUs x 16 clips
optimizer_config = dict(grad_clip=dict(max_norm=40, norm_type=2))
lr_config = dict(policy='CosineAnnealing', by_epoch=False, min_lr=0)
total_epochs = 12
