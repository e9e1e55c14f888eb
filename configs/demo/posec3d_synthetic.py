# PoseC3D on the synthetic skeleton set, small enough to train on a laptop CPU in minutes.
_base_ = [
    '../_base_/models/posec3d_slowonly_r50.py', '../_base_/datasets/synthetic_small.py',
    '../_base_/schedules/demo_adamw_12e.py'
]
num_classes = 18  # lists/synthetic.csv
# PoseC3D's ResNet3dSlowOnly, narrower (16 base channels) and shallower (one block per stage)
model = dict(
    backbone=dict(base_channels=16, stage_blocks=(1, 1, 1)),
    cls_head=dict(in_channels=256, num_classes=num_classes))
optimizer = dict(_delete_=True, type='SGD', lr=0.05, momentum=0.9, weight_decay=0.0003)
