# RecognizerViseceITM: RecognizerVisece plus video-text matching. The BERT text encoder (bert-base sizes, the seed's
# config, cross-attention layers present) cross-attends to the 768-d per-frame features of Visece_Video; itm_head
# reads its [ENC] output. The sizes of the loaded weights win when they differ.
_base_ = ['./visece_r50_bert.py']
model = dict(
    type='RecognizerViseceITM',
    itm_dim=None,  # the text encoder's hidden size: 768 for bert-base (a given value must match it)
    loss_itm=dict(type='ITMLoss', loss_weight=1.0))
