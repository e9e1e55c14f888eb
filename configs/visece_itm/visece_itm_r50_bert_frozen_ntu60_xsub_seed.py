# The original code's frozen-BERT ITM run (91.91% on NTU60 XSub) as it actually ran: the frozen text encoder is a
# randomly initialised BERT-base (normal(0, 0.02)), since its pretrained load never took effect; the video encoder,
# the projections and the ITM head as built. See configs/visece_itm/README.md, "The original code and our defaults".
_base_ = ['./visece_itm_r50_bert_frozen_ntu60_xsub.py']
model = dict(text_encoder_init=None, proj_init='pytorch', video_encoder=dict(weight_init='pytorch'))
