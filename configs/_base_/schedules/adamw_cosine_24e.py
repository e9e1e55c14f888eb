# The seed's recipe for the text-supervised models: AdamW, cosine decay per iteration after 2 warm-up epochs,
# 24 epochs over the 10x repeated training set. Experiments set the learning rates (optimizer.lr and the
# text_encoder lr_mult) in their own file.
optimizer = dict(type='AdamW', lr=1e-3, weight_decay=0.01)
optimizer_config = dict(grad_clip=dict(max_norm=40, norm_type=2))
lr_config = dict(policy='CosineAnnealing', by_epoch=False, min_lr=0, warmup='linear', warmup_by_epoch=True,
                 warmup_iters=2, warmup_ratio=0.01)
total_epochs = 24
