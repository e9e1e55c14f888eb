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
# Fast paths of the training step (pyskl/core/fast_paths.py). None = the default of the device the run trains on:
# CUDA: cudnn_benchmark, tf32 (matmuls + convolutions) and fused_optimizer on; channels_last and amp off until
# measured faster on a GPU (benchmarks/gpu_throughput.sh). CPU: channels_last on; amp='bf16' on CPUs with bfloat16
# arithmetic (AVX512-BF16 / AMX); the rest off. amp: False, True, 'bf16' or 'fp16' (`fp16 = dict(...)` still means
# float16 + gradient scaler on CUDA, bfloat16 on the CPU). compile: torch.compile of the video encoder (True or a
# dict of torch.compile arguments). Figures and reasons: benchmarks/README.md.
performance = dict(cudnn_benchmark=None, tf32=None, channels_last=None, amp=None, compile=False, fused_optimizer=None)
