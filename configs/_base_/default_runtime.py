# Runtime shared by every experiment: checkpoints, logs, evaluation, distributed settings.
checkpoint_config = dict(interval=1)
log_config = dict(interval=20, hooks=[dict(type='TextLoggerHook')])
# TensorBoard: `tensorboard = True` adds mmcv's TensorboardLoggerHook (logs in <work_dir>/tf_logs; view them with
# `tensorboard --logdir work_dirs`), `tensorboard = dict(log_dir=..., interval=...)` sets its options. It needs the
# optional package: pip install -e ".[tensorboard]". Also from the command line: --cfg-options tensorboard=True
tensorboard = False
evaluation = dict(interval=1, metrics=['top_k_accuracy', 'mean_class_accuracy'], topk=(1, 5))
log_level = 'INFO'
dist_params = dict()
workflow = [('train', 1)]
load_from = None
resume_from = None
auto_resume = True
