# PoseC3D limb model on pyskl's compressed Kinetics-400 skeletons; ResNet3dSlowOnly, stage_blocks=(4, 6, 3)
# (stages 2-4 of ResNet-50, as in the NTU configs).
_base_ = [
    '../../_base_/models/posec3d_slowonly_r50.py', '../../_base_/datasets/posec3d_limb_k400.py',
    '../../_base_/schedules/sgd_cosine_24e.py', '../../_base_/default_runtime.py'
]
model = dict(backbone=dict(stage_blocks=(4, 6, 3)), cls_head=dict(num_classes=400))
optimizer = dict(lr=0.2)  # 8 GPUs x 16 clips; scale linearly with the total batch size
