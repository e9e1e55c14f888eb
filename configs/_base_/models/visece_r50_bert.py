# RecognizerVisece: PoseC3D's ResNet3dSlowOnly as per-frame video encoder, BERT on the class sentences, contrastive
# training in a shared 256-d space. The BERT config is the seed's (bert-base sizes, cross-attention layers present
# so ITM variants can reuse the weights); the sizes of the loaded weights win when they differ.
_base_ = ['./slowonly_r50_video_encoder.py']
model = dict(
    type='RecognizerVisece',
    # the ResNet arguments come from slowonly_r50_video_encoder.py; the Linear maps the 512-d frames to
    # output_channels, by default 768 (bert-base's width, the text encoder's encoder_width below)
    video_encoder=dict(type='Visece_Video', res_out_channels=512, pretrained=None),
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
            encoder_width=768,
            add_cross_attention=True),
        add_pooling_layer=False),
    embed_dim=256,
    frozen_bert=False,
    text_encoder_init='bert-base-uncased',
    text_lists='lists/ntu60.csv',
    test_cfg=dict(average_clips='prob'))
# the text-only forward leaves BERT's cross-attention layers unused
find_unused_parameters = True
