# RecognizerVisecePACL: per-frame ResNet3dSlowOnly features (Visece_Video_PACL, 512-d), a residual-MLP frame
# embedder to 256-d, and PACL frame-to-sentence pooling. Softmax frame weights on the raw embedder outputs, every clip
# scored against every class sentence in training (the seed's best run did this with a linear embedder).
# The video encoder's ResNet, the BERT text encoder and the class sentences are those of RecognizerVisece.
_base_ = ['./visece_r50_bert.py']
model = dict(
    type='RecognizerVisecePACL',
    video_encoder=dict(type='Visece_Video_PACL'),  # the ResNet and spatial averaging, no Linear
    # PACL never cross-attends: no cross-attention layers, every parameter is used (encoder_width then has no use)
    text_encoder=dict(config=dict(add_cross_attention=False)),
    embedder='mlp',
    weight_fn='softmax',  # or 'sigmoid' (sigmoid of 10 x cosine)
    weight_on='raw',  # or 'normalized' (pool the L2-normalised frame embeddings)
    train_mode='all_class')  # or 'pairwise' (contrast each clip's own-sentence pooling with the batch)
find_unused_parameters = False
