# RecognizerVisecePACL on UCF101 split 3, joint heatmaps: the seed's best PACL setting
# (softmax frame weights on the raw embeddings, all-class training; see the model base for the other options).
_base_ = [
    '../_base_/models/visece_pacl_r50_bert.py', '../_base_/datasets/posec3d_joint.py',
    '../_base_/schedules/adamw_cosine_24e.py', '../_base_/default_runtime.py'
]
ann_file = 'data/ucf101/ucf101_hrnet.pkl'
model = dict(text_lists='lists/ucf101.csv', num_classes=101)
data = dict(
    train=dict(dataset=dict(ann_file=ann_file, split='train3')),
    val=dict(ann_file=ann_file, split='test3'),
    test=dict(ann_file=ann_file, split='test3'))
# learning rates: 1e-3 for the video side, 1e-3 x 0.01 = 1e-5 for the text encoder (8 GPUs x 16 clips)
optimizer = dict(lr=1e-3, paramwise_cfg=dict(custom_keys={'text_encoder': dict(lr_mult=0.01)}))
