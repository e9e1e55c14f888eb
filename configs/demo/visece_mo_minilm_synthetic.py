# RecognizerViseceMo on the synthetic skeleton set with the packaged all-MiniLM-L6-v2 text encoder: the CPU demo of
# momentum distillation. Same model and schedule as visece_minilm_synthetic.py; the run is short (45 steps per
# epoch), so the momentum copy follows faster (0.99: an average over about 100 steps), alpha ramps up over the first
# epoch as in ALBEF, and each queue holds 16 batches.
_base_ = ['./visece_minilm_synthetic.py']
model = dict(type='RecognizerViseceMo', momentum=0.99, queue_size=256, alpha=0.4, alpha_warmup_iters=45)
