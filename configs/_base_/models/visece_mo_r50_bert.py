# RecognizerViseceMo: RecognizerVisece (same video encoder, BERT and 256-d joint space) trained with ALBEF-style
# momentum distillation: EMA copies of both encoders and projections, FIFO queues of their features, contrastive
# targets mixing the label targets with the momentum model's similarities. Experiments set queue_size per dataset.
_base_ = ['./visece_r50_bert.py']
model = dict(type='RecognizerViseceMo', momentum=0.995, queue_size=4096, alpha=0.4, alpha_warmup_iters=0)
