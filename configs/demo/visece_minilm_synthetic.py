# RecognizerVisece on the synthetic skeleton set with the packaged all-MiniLM-L6-v2 text encoder: the main job of
# `make demo`, offline and CPU-sized. Classification = the nearest class sentence in the shared embedding space.
_base_ = [
    '../_base_/models/visece_minilm_demo.py', '../_base_/datasets/synthetic_small.py',
    '../_base_/schedules/demo_adamw_12e.py'
]
# the Linear maps the encoder's 256-d frames to MiniLM's width
model = dict(video_encoder=dict(output_channels=384))
