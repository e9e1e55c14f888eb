# PoseC3D limb model on NTU120 XSUB (pyskl recipe).
_base_ = [
    '../../_base_/models/posec3d_slowonly_r50.py', '../../_base_/datasets/posec3d_limb.py',
    '../../_base_/schedules/sgd_cosine_24e.py', '../../_base_/default_runtime.py'
]
ann_file = 'data/nturgbd/ntu120_hrnet.pkl'
model = dict(cls_head=dict(num_classes=120))
data = dict(
    train=dict(dataset=dict(ann_file=ann_file, split='xsub_train')),
    val=dict(ann_file=ann_file, split='xsub_val'),
    test=dict(ann_file=ann_file, split='xsub_val'))
optimizer = dict(lr=0.2)  # 8 GPUs x 16 clips; scale linearly with the total batch size
