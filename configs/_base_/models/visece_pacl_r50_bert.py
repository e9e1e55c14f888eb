# RecognizerVisecePACL: per-frame ResNet3dSlowOnly features (Visece_Video_PACL, 512-d), a residual-MLP frame
# embedder to 256-d, and PACL frame-to-sentence pooling. Softmax frame weights on the raw embedder outputs, every clip
# scored against every class sentence in training (the seed's best run did this with a linear embedder).
model = dict(
    type='RecognizerVisecePACL',
    video_encoder=dict(
        type='Visece_Video_PACL',
        res_out_channels=512,
        pretrained=None,
        in_channels=17,
        base_channels=32,
        num_stages=3,
        out_indices=(2, ),
        stage_blocks=(4, 6, 3),
        conv1_stride=(1, 1),
        pool1_stride=(1, 1),
        inflate=(0, 1, 1),
        spatial_strides=(2, 2, 2),
        temporal_strides=(1, 1, 2)),
    text_encoder=dict(
        type='BertModel',
        config=dict(
            architectures=['BertModel'],
            attention_probs_dropout_prob=0.1,
            hidden_act='gelu',
            hidden_dropout_prob=0.1,
            hidden_size=768,
            initializer_range=0.02,
            intermediate_size=3072,
            layer_norm_eps=1e-12,
            max_position_embeddings=512,
            model_type='bert',
            num_attention_heads=12,
            num_hidden_layers=12,
            pad_token_id=0,
            type_vocab_size=2,
            vocab_size=30524,
            add_cross_attention=False),  # PACL never cross-attends: every parameter is used
        add_pooling_layer=False),
    embedder='mlp',
    weight_fn='softmax',  # or 'sigmoid' (sigmoid of 10 x cosine)
    weight_on='raw',  # or 'normalized' (pool the L2-normalised frame embeddings)
    train_mode='all_class',  # or 'pairwise' (contrast each clip's own-sentence pooling with the batch)
    embed_dim=256,
    frozen_bert=False,
    text_encoder_init='bert-base-uncased',
    text_lists='lists/ntu60.csv',
    test_cfg=dict(average_clips='prob'))
