# RecognizerVisecePACL on the synthetic skeleton set with the packaged all-MiniLM-L6-v2 text encoder, CPU-sized:
# a residual-MLP frame embedder and PACL frame-to-sentence pooling, every clip scored against all 18 sentences.
_base_ = [
    '../_base_/models/visece_minilm_demo.py', '../_base_/datasets/synthetic_small.py',
    '../_base_/schedules/demo_adamw_12e.py'
]
model = dict(
    type='RecognizerVisecePACL',
    video_encoder=dict(type='Visece_Video_PACL'),  # the ResNet and spatial averaging, no Linear
    embedder='mlp',
    weight_fn='softmax',
    weight_on='raw',
    train_mode='all_class')
