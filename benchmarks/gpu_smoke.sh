#!/usr/bin/env bash
# A short check of the training path on a CUDA machine: mixed-precision training through tools/train.py,
# a one-GPU torchrun (NCCL + DistEvalHook) run, tools/test.py, and per-step timings of the full-size models.
# Run from the repository root: bash benchmarks/gpu_smoke.sh [OUT_DIR]   (about 5 minutes on one H100/H200)
set -uo pipefail  # keep going after a failed step: each step reports on its own
OUT=${1:-${OUT:-work_dirs/gpu_smoke}}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
PY=${PYTHON:-python3}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
$PY -c 'import torch, mmcv, transformers; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), "mmcv", mmcv.__version__, "transformers", transformers.__version__)'

$PY tools/data/generate_synthetic.py --out "$OUT/synthetic.pkl" --train-per-class 24 --val-per-class 6
DATA="data.train.ann_file=$OUT/synthetic.pkl data.val.ann_file=$OUT/synthetic.pkl data.test.ann_file=$OUT/synthetic.pkl"
DATA="$DATA evaluation.interval=1 log_config.interval=5 checkpoint_config.interval=1"
TEXT="model.text_encoder_init=None"  # the packaged MiniLM may be absent: a random BERT-base exercises the same path

echo "== 1. PoseC3D demo, fp16 autocast + grad scaler, tools/train.py on one GPU"
$PY tools/train.py configs/demo/posec3d_synthetic.py --validate --test-last --seed 0 --work-dir "$OUT/posec3d_amp" \
    --cfg-options total_epochs=3 fp16.loss_scale=dynamic $DATA > "$OUT/posec3d_amp.log" 2>&1
grep -E "Epoch|Testing|top1|Error" "$OUT/posec3d_amp.log" | tail -8

echo "== 2. RecognizerVisece demo through torchrun with 1 GPU (NCCL, DistEvalHook), fp16"
PYTHON=$PY bash tools/dist_train.sh configs/demo/visece_minilm_synthetic.py 1 --validate --seed 0 \
    --work-dir "$OUT/visece_dist" --cfg-options total_epochs=2 fp16.loss_scale=dynamic $TEXT $DATA \
    > "$OUT/visece_dist.log" 2>&1
grep -E "Epoch|top1|Error" "$OUT/visece_dist.log" | tail -6

echo "== 3. tools/test.py on GPU"
$PY tools/test.py configs/demo/visece_minilm_synthetic.py -C "$OUT/visece_dist/latest.pth" \
    --cfg-options $TEXT $DATA 2>&1 | tail -2

echo "== 4. full-size training steps (batch 16, 48x56x56)"
for amp in "" "--amp"; do
  $PY benchmarks/train_step.py configs/posec3d/slowonly_r50_ntu60_xsub/joint.py --batch 16 --iters 10 $amp 2>&1 | tail -1
  $PY benchmarks/train_step.py configs/visece/visece_r50_bert_ntu60_xsub.py --batch 16 --iters 10 --text-init none \
      $amp 2>&1 | tail -1
done
echo "== 5. evaluation overhead of the text branch (NTU60 R50, 2 clips of 48x64x64)"
$PY benchmarks/text_branch_overhead.py --standard --batch 16 --clips 2 --batches 8 --repeats 2 --text-init none 2>&1 | tail -5 || true
echo "== 6. device-side heatmaps on the GPU: equality with the CPU path, then speed"
$PY -m pytest -q -p no:cacheprovider tests/models/test_device_heatmap.py 2>&1 | tail -2 || true
$PY benchmarks/heatmaps.py --device cuda --seconds 1 2>&1 | tail -24 || true
