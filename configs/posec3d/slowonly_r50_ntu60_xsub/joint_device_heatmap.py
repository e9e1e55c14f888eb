# PoseC3D joint model on NTU60 XSUB (pyskl recipe) with the heatmap volumes drawn on the GPU from compact keypoints;
# the same numbers as joint.py, with a fraction of the data-loading work.
_base_ = [
    '../../_base_/models/posec3d_slowonly_r50.py', '../../_base_/datasets/posec3d_joint_device_heatmap.py',
    '../../_base_/schedules/sgd_cosine_24e.py', '../../_base_/default_runtime.py'
]
ann_file = 'data/nturgbd/ntu60_hrnet.pkl'
model = dict(
    cls_head=dict(num_classes=60),
    train_cfg=dict(heatmap={{_base_.train_heatmap}}),
    test_cfg=dict(heatmap={{_base_.test_heatmap}}))
data = dict(
    train=dict(dataset=dict(ann_file=ann_file, split='xsub_train')),
    val=dict(ann_file=ann_file, split='xsub_val'),
    test=dict(ann_file=ann_file, split='xsub_val'))
optimizer = dict(lr=0.2)  # 8 GPUs x 16 clips; scale linearly with the total batch size
