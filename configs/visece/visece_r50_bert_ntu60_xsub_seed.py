# RecognizerVisece on NTU60 XSub as the original SkeletonCLIP++ code actually trained it (not as its config reads):
# - a randomly initialised BERT-base, normal(0, 0.02): its pretrained load never took effect;
# - the video encoder and the projections as built (mmcv / PyTorch init, no zero-initialised residual branches).
# See configs/visece/README.md, "The original code and our defaults".
# Class sentences: ours (lists/ntu60.csv). To evaluate or fine-tune a checkpoint of the original code, copy its
# lists/ntu_60_labels.csv into lists/, set text_lists='lists/ntu_60_labels.csv' and convert the checkpoint with
# tools/convert_seed_checkpoint.py.
_base_ = ['./visece_r50_bert_ntu60_xsub.py']
model = dict(text_encoder_init=None, proj_init='pytorch', video_encoder=dict(weight_init='pytorch'))
