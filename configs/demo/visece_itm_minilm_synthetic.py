# RecognizerViseceITM on the synthetic skeleton set with the packaged all-MiniLM-L6-v2 text encoder, CPU-sized:
# contrastive training plus video-text matching, the MiniLM layers cross-attending to the 384-d per-frame features
# (their cross-attention weights start fresh).
_base_ = ['./visece_minilm_synthetic.py']
model = dict(
    type='RecognizerViseceITM',
    # the architecture of the loaded weights, with cross-attention to the video encoder's output_channels
    text_encoder=dict(_delete_=True, type='BertModel', config=dict(add_cross_attention=True, encoder_width=384)),
    itm_dim=None,  # MiniLM's hidden size, 384
    loss_itm=dict(type='ITMLoss', loss_weight=1.0))
find_unused_parameters = True  # the contrastive forward leaves the cross-attention unused
