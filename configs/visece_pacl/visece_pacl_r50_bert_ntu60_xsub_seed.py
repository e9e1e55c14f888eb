# RecognizerVisecePACL on NTU60 XSub as the original SkeletonCLIP++ code's committed PACL code trains it:
# - frame weights sigmoid(10 x cosine) on the raw embedder outputs, all-class training (its paclmod4 run: 88.84%);
# - the residual embedder Linear-ReLU-Linear plus a Linear shortcut;
# - a randomly initialised BERT-base, normal(0, 0.02): its pretrained load never took effect;
# - the video encoder and the projections as built (mmcv / PyTorch init, no zero-initialised residual branches).
# Its best run is visece_pacl_r50_bert_ntu60_xsub_seed_best.py. See configs/visece_pacl/README.md.
_base_ = ['./visece_pacl_r50_bert_ntu60_xsub.py']
model = dict(weight_fn='sigmoid', weight_on='raw', train_mode='all_class', embedder='mlp_relu', text_encoder_init=None,
             proj_init='pytorch', video_encoder=dict(weight_init='pytorch'))
