# RecognizerViseceITM on NTU60 XSub with the text encoder frozen (the seed's frozen-BERT run): BERT keeps its weights
# and stays in eval mode; the video side, the projections and the ITM head train.
_base_ = [
    '../_base_/models/visece_itm_r50_bert.py', '../_base_/datasets/posec3d_joint.py',
    '../_base_/schedules/adamw_cosine_24e.py', '../_base_/default_runtime.py'
]
ann_file = 'data/nturgbd/ntu60_hrnet.pkl'
model = dict(frozen_bert=True, text_lists='lists/ntu60.csv', num_classes=60)
data = dict(
    train=dict(dataset=dict(ann_file=ann_file, split='xsub_train')),
    val=dict(ann_file=ann_file, split='xsub_val'),
    test=dict(ann_file=ann_file, split='xsub_val'))
# learning rates: 1e-3 for the video side, 0 for the (frozen) text encoder
optimizer = dict(lr=1e-3, paramwise_cfg=dict(custom_keys={'text_encoder': dict(lr_mult=0.)}))
