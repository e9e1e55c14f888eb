# PoseC3D limb model fine-tuned on UCF101 split 2 from Kinetics-400.
_base_ = [
    '../../_base_/models/posec3d_slowonly_r50.py', '../../_base_/datasets/posec3d_limb.py',
    '../../_base_/schedules/sgd_cosine_12e.py', '../../_base_/default_runtime.py'
]
ann_file = 'data/ucf101/ucf101_hrnet.pkl'
model = dict(cls_head=dict(num_classes=101))
data = dict(
    train=dict(dataset=dict(ann_file=ann_file, split='train2')),
    val=dict(ann_file=ann_file, split='test2'),
    test=dict(ann_file=ann_file, split='test2'))
optimizer = dict(lr=0.01)  # 8 GPUs x 16 clips; scale linearly with the total batch size
# Start from pyskl's Kinetics-400 PoseC3D checkpoint of the same modality (slowonly_r50_k400p); put
# it under checkpoints/ and give its path here. Training from scratch works but scores lower.
load_from = None
