# RecognizerVisecePACL on NTU60 XSub, joint heatmaps: softmax frame weights on the raw embeddings, all-class training,
# residual MLP embedder (the seed's best run used a linear one: see *_seed_best.py and the README).
_base_ = [
    '../_base_/models/visece_pacl_r50_bert.py', '../_base_/datasets/posec3d_joint.py',
    '../_base_/schedules/adamw_cosine_24e.py', '../_base_/default_runtime.py'
]
ann_file = 'data/nturgbd/ntu60_hrnet.pkl'
model = dict(text_lists='lists/ntu60.csv', num_classes=60)
data = dict(
    train=dict(dataset=dict(ann_file=ann_file, split='xsub_train')),
    val=dict(ann_file=ann_file, split='xsub_val'),
    test=dict(ann_file=ann_file, split='xsub_val'))
# learning rates: 1e-3 for the video side, 1e-3 x 0.01 = 1e-5 for the text encoder (8 GPUs x 16 clips)
optimizer = dict(lr=1e-3, paramwise_cfg=dict(custom_keys={'text_encoder': dict(lr_mult=0.01)}))
