# posec3d_synthetic.py with the heatmaps drawn by the model (on its device: here the CPU, on a GPU the GPU) from
# compact keypoints: the pipelines stop before GeneratePoseTarget and end at FormatCompactKeypoints, and the model's
# train_cfg / test_cfg `heatmap` holds the GeneratePoseTarget arguments of the CPU pipelines (joints, sigma 0.6).
_base_ = ['./posec3d_synthetic.py']
clip_len = 16
keypoint_keys = ['keypoint', 'keypoint_score', 'img_shape']
train_pipeline = [
    dict(type='UniformSampleFrames', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(-1, 28)),
    dict(type='RandomResizedCrop', area_range=(0.7, 1.0)),
    dict(type='Resize', scale=(24, 24), keep_ratio=False),
    dict(type='FormatCompactKeypoints', max_people=2),
    dict(type='Collect', keys=keypoint_keys + ['label'], meta_keys=[]),
    dict(type='ToTensor', keys=keypoint_keys + ['label'])
]
test_pipeline = [
    dict(type='UniformSampleFrames', clip_len=clip_len, num_clips=2),
    dict(type='PoseDecode'),
    dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(24, 24), keep_ratio=False),
    dict(type='FormatCompactKeypoints', max_people=2),
    dict(type='Collect', keys=keypoint_keys + ['label'], meta_keys=[]),
    dict(type='ToTensor', keys=keypoint_keys)
]
heatmap = dict(with_kp=True, with_limb=False)
model = dict(train_cfg=dict(heatmap=heatmap), test_cfg=dict(heatmap=heatmap))
data = dict(
    train=dict(pipeline=train_pipeline),
    val=dict(pipeline=[dict(test_pipeline[0], num_clips=1)] + test_pipeline[1:]),
    test=dict(pipeline=test_pipeline))
