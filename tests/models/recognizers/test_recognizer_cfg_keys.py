"""Unknown train_cfg / test_cfg keys fail when the model is built and list the keys the recognizer knows."""
import pytest

from pyskl.models import build_model, recognizers

BASE_TEST = ['average_clips', 'feat_ext', 'heatmap', 'max_testing_views']
TINY_3D = dict(type='Recognizer3D', backbone=dict(type='ResNet3dSlowOnly', base_channels=4, stage_blocks=(1, 1, 1)),
               cls_head=dict(type='I3DHead', in_channels=64, num_classes=3, dropout=0))
TINY_VIDEO = dict(type='Visece_Video', res_out_channels=32, output_channels=16, in_channels=3, base_channels=4,
                  num_stages=2, stage_blocks=(1, 1), out_indices=(1, ), spatial_strides=(2, 2),
                  temporal_strides=(1, 2), inflate=(0, 1))
TINY_VISECE = dict(type='RecognizerVisece', video_encoder=TINY_VIDEO, text_encoder_init=None, embed_dim=8,
                   text_encoder=dict(type='BertModel', config=dict(hidden_size=16, num_hidden_layers=1,
                                                                   num_attention_heads=2, intermediate_size=32)),
                   text_lists=['drink water', 'wave'])


def test_known_keys_per_class():
    assert recognizers.Recognizer3D.known_cfg_keys('test_cfg') == BASE_TEST
    assert recognizers.Recognizer3D.known_cfg_keys('train_cfg') == ['aux_info', 'heatmap']
    for name in ('RecognizerVisece', 'RecognizerViseceITM', 'RecognizerViseceMo', 'RecognizerVisecePACL'):
        cls = getattr(recognizers, name)
        assert cls.known_cfg_keys('test_cfg') == sorted(BASE_TEST + ['class_subset'])
        assert cls.known_cfg_keys('train_cfg') == ['aux_info', 'heatmap']


def test_typo_in_test_cfg_fails_with_suggestion_and_known_keys():
    with pytest.raises(KeyError) as info:
        build_model(dict(TINY_3D, test_cfg=dict(average_clip='prob')))
    message = str(info.value)
    assert "unknown test_cfg key(s) 'average_clip' (did you mean 'average_clips'?)" in message
    assert 'known test_cfg keys: average_clips, feat_ext, heatmap, max_testing_views' in message


def test_unknown_train_cfg_key():
    with pytest.raises(KeyError, match=r"unknown train_cfg key\(s\) 'blending' for Recognizer3D; known train_cfg "
                       r'keys: aux_info, heatmap'):
        build_model(dict(TINY_3D, train_cfg=dict(blending=dict(type='MixupBlending'))))


def test_class_subset_is_known_only_where_it_is_read():
    with pytest.raises(KeyError, match="'class_subset'"):
        build_model(dict(TINY_3D, test_cfg=dict(class_subset=[0])))
    model = build_model(dict(TINY_VISECE, test_cfg=dict(class_subset=[1], average_clips='prob')))
    assert model.class_subset == [1]
    with pytest.raises(KeyError, match=r"'class_subst' \(did you mean 'class_subset'\?\)"):
        build_model(dict(TINY_VISECE, test_cfg=dict(class_subst=[1])))


def test_known_keys_still_build():
    model = build_model(dict(TINY_3D, train_cfg=dict(aux_info=[]), test_cfg=dict(average_clips='score',
                                                                                   max_testing_views=2,
                                                                                   feat_ext=False)))
    assert model.max_testing_views == 2
    with pytest.raises(TypeError, match='test_cfg must be a dict'):
        build_model(dict(TINY_3D, test_cfg=['average_clips']))
