#!/usr/bin/env bash
# Training speed of the NTU-size models on one GPU, float32 against the performance switches (about 7 minutes on
# one H200). Run from the repository root:  bash benchmarks/gpu_throughput.sh [OUT_DIR]
#   1. model-only steps (benchmarks/train_step.py), batch 16 x 17x48x56x56: PoseC3D R50 and RecognizerVisece R50 +
#      BERT-base (random weights: nothing is downloaded), every switch on its own, all together, the defaults;
#   2. end to end through tools/train.py (benchmarks/train_throughput.py) with device-side heatmaps: clips/s, data
#      wait and peak memory for fp32, the fast settings and the defaults;
#   3. the fast-path tests on CUDA; 4. torch.compile on top of the fast settings (last: it compiles for minutes).
# Every step prints a table with the ratio to its own fp32 run; the output is also written to OUT_DIR/*.txt.
set -uo pipefail  # keep going after a failed step: each step reports on its own
OUT=${1:-${OUT:-work_dirs/gpu_throughput}}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
PY=${PYTHON:-python3}
POSEC3D=configs/posec3d/slowonly_r50_ntu60_xsub/joint_device_heatmap.py
VISECE=configs/visece/visece_r50_bert_ntu60_xsub.py
STEP="benchmarks/train_step.py --batch 16 --clip-len 48 --size 56 --warmup 5 --iters 10"
E2E="benchmarks/train_throughput.py --device cuda --batch 16 --warmup 5 --iters 20 --workers 8 --per-class 6"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
$PY -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())'

echo "== 1a. PoseC3D R50 model step"
timeout 120 $PY $STEP $POSEC3D --settings fp32 cudnn_benchmark tf32 channels_last bf16 fp16 fused_optimizer all \
    default 2>&1 | grep -v -i warn | tee "$OUT/step_posec3d.txt"
echo "== 1b. RecognizerVisece R50 + BERT-base model step"
timeout 90 $PY $STEP $VISECE --text-init none --settings fp32 channels_last bf16 all default 2>&1 \
    | grep -v -i warn | tee "$OUT/step_visece.txt"
echo "== 2a. PoseC3D R50 end to end, device-side heatmaps"
timeout 120 $PY $E2E $POSEC3D --settings fp32 channels_last bf16 all default 2>&1 | grep -v -i warn \
    | tee "$OUT/e2e_posec3d.txt"
echo "== 2b. RecognizerVisece R50 + BERT-base end to end, device-side heatmaps"
timeout 90 $PY $E2E $VISECE --device-heatmap --text-init none --settings fp32 all default 2>&1 | grep -v -i warn \
    | tee "$OUT/e2e_visece.txt"
echo "== 3. fast-path tests on CUDA"
timeout 60 $PY -m pytest -q -p no:cacheprovider tests/core/test_fast_paths.py 2>&1 | tail -3 | tee "$OUT/tests.txt"
echo "== 4. torch.compile of the video encoder (PoseC3D R50 model step)"
timeout 120 $PY $STEP $POSEC3D --settings fp32 all all+compile 2>&1 | grep -v -i warn | tee "$OUT/step_compile.txt"
