# The ResNet3dSlowOnly of posec3d_slowonly_r50.py (its model.backbone, where the arguments are written) as
# model.video_encoder, the per-frame encoder of the Visece recognizers. A file inheriting this one sets the encoder
# type (Visece_Video, Visece_Video_PACL) and its own arguments (res_out_channels, output_channels, pretrained) and
# overrides any ResNet argument that differs (e.g. base_channels, stage_blocks).
_base_ = ['./posec3d_slowonly_r50.py']
model = dict(_delete_=True, video_encoder={{_base_.model.backbone}})
