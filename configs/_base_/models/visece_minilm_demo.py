# The CPU-sized text recognizer of the demos: PoseC3D's ResNet3dSlowOnly narrower (16 base channels) and shallower
# (one block per stage) as per-frame video encoder, the packaged all-MiniLM-L6-v2 on the 18 class sentences of the
# synthetic set, a 128-d shared space. The demos set what differs: the Visece Linear's width (MiniLM's 384), or the
# PACL recognizer and its encoder type.
_base_ = ['./slowonly_r50_video_encoder.py']
num_classes = 18  # lists/synthetic.csv
model = dict(
    type='RecognizerVisece',
    video_encoder=dict(type='Visece_Video', res_out_channels=256, base_channels=16, stage_blocks=(1, 1, 1)),
    text_encoder=None,  # the architecture of the loaded weights
    embed_dim=128,
    frozen_bert=False,
    text_encoder_init='minilm',
    text_lists='lists/synthetic.csv',
    num_classes=18,
    test_cfg=dict(average_clips='prob'))
