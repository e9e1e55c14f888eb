# PoseC3D joint heatmaps drawn by the model on its device (GPU): the pipelines of posec3d_joint.py up to the heatmap
# step, then compact keypoints [num_clips, 2 people, 48 frames, 17 joints, 2] instead of heatmap volumes, so a
# 10-clip test sample is ~130 KB instead of ~270 MB. The experiment passes `train_heatmap` / `test_heatmap` (the
# GeneratePoseTarget arguments of posec3d_joint.py) to the model as train_cfg / test_cfg `heatmap`; validation runs
# through test_cfg too, so it also averages the mirrored copy.
dataset_type = 'PoseDataset'
ann_file = None  # set by the experiment config, e.g. 'data/nturgbd/ntu60_hrnet.pkl'
left_kp = [1, 3, 5, 7, 9, 11, 13, 15]
right_kp = [2, 4, 6, 8, 10, 12, 14, 16]
train_heatmap = dict(sigma=0.6, with_kp=True, with_limb=False)
test_heatmap = dict(sigma=0.6, with_kp=True, with_limb=False, double=True, left_kp=left_kp, right_kp=right_kp)
keypoint_keys = ['keypoint', 'keypoint_score', 'img_shape']
train_pipeline = [
    dict(type='UniformSampleFrames', clip_len=48),
    dict(type='PoseDecode'),
    dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(56, 56), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, left_kp=left_kp, right_kp=right_kp),
    dict(type='FormatCompactKeypoints', max_people=2),
    dict(type='Collect', keys=keypoint_keys + ['label'], meta_keys=[]),
    dict(type='ToTensor', keys=keypoint_keys + ['label'])
]
val_pipeline = [
    dict(type='UniformSampleFrames', clip_len=48, num_clips=1),
    dict(type='PoseDecode'),
    dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='FormatCompactKeypoints', max_people=2),
    dict(type='Collect', keys=keypoint_keys + ['label'], meta_keys=[]),
    dict(type='ToTensor', keys=keypoint_keys)
]
test_pipeline = [
    dict(type='UniformSampleFrames', clip_len=48, num_clips=10),
    dict(type='PoseDecode'),
    dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='FormatCompactKeypoints', max_people=2),
    dict(type='Collect', keys=keypoint_keys + ['label'], meta_keys=[]),
    dict(type='ToTensor', keys=keypoint_keys)
]
data = dict(
    videos_per_gpu=16,
    workers_per_gpu=2,
    test_dataloader=dict(videos_per_gpu=1),
    train=dict(
        type='RepeatDataset',
        times=10,
        dataset=dict(type=dataset_type, ann_file=ann_file, split=None, pipeline=train_pipeline)),
    val=dict(type=dataset_type, ann_file=ann_file, split=None, pipeline=val_pipeline),
    test=dict(type=dataset_type, ann_file=ann_file, split=None, pipeline=test_pipeline))
