# RecognizerViseceMo on NTU60 XSub as the original SkeletonCLIP++ code actually trained it (not as its config reads):
# - a randomly initialised BERT-base, normal(0, 0.02): its pretrained load never took effect;
# - the video encoder and the projections as built (mmcv / PyTorch init, no zero-initialised residual branches);
# - the queues start full of random unit vectors labelled -100: negatives of every clip from the first step.
# See configs/visece_mo/README.md, "The original code and our defaults". Class sentences: ours (lists/ntu60.csv);
# for a checkpoint of the original code use its lists/ntu_60_labels.csv (see lists/README.md).
_base_ = ['./visece_mo_r50_bert_ntu60_xsub.py']
model = dict(text_encoder_init=None, proj_init='pytorch', video_encoder=dict(weight_init='pytorch'),
             queue_init='random')
