# RecognizerVisecePACL on NTU60 XSub as the original SkeletonCLIP++ code's best PACL run (paclmod5, 92.64%) trained:
# - softmax frame weights on the raw embedder outputs, all-class training, a linear embedder (RecognizerVisece's);
# - a randomly initialised BERT-base, normal(0, 0.02): its pretrained load never took effect;
# - the video encoder and the projections as built (mmcv / PyTorch init, no zero-initialised residual branches).
# See configs/visece_pacl/README.md, "The original code and our defaults".
_base_ = ['./visece_pacl_r50_bert_ntu60_xsub.py']
model = dict(weight_fn='softmax', weight_on='raw', train_mode='all_class', embedder='linear', text_encoder_init=None,
             proj_init='pytorch', video_encoder=dict(weight_init='pytorch'))
