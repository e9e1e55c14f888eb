"""A class list that is not UTF-8 fails with the file, the line and the byte offset, also through a model build."""
import pytest

from pyskl.models import build_model
from pyskl.utils.class_lists import load_class_list

TINY_VIDEO = dict(type='Visece_Video', res_out_channels=32, output_channels=16, in_channels=3, base_channels=4,
                  num_stages=2, stage_blocks=(1, 1), out_indices=(1, ), spatial_strides=(2, 2),
                  temporal_strides=(1, 2), inflate=(0, 1))
TINY_BERT = dict(type='BertModel', config=dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                               intermediate_size=32))


@pytest.fixture
def latin1_list(tmp_path):
    path = tmp_path / 'classes.csv'
    path.write_bytes('id,name\n0,drink water\n1,caf\xe9 visit\n'.encode('latin-1'))
    return path


def test_not_utf8_names_file_line_and_offset(latin1_list):
    offset = latin1_list.read_bytes().index(b'\xe9')
    with pytest.raises(ValueError) as info:
        load_class_list(str(latin1_list))
    message = str(info.value)
    assert f'{latin1_list}:3:' in message
    assert f'byte offset {offset} (0xe9)' in message
    assert 'UTF-8' in message
    assert not isinstance(info.value, UnicodeDecodeError)


def test_utf8_with_and_without_bom(tmp_path):
    path = tmp_path / 'classes.csv'
    for prefix in (b'', b'\xef\xbb\xbf'):
        path.write_bytes(prefix + 'id,name\n0,café visit\n1,wave\n'.encode())
        assert load_class_list(str(path)) == ['café visit', 'wave']


def test_model_build_reports_the_encoding_error(latin1_list):
    cfg = dict(type='RecognizerVisece', video_encoder=TINY_VIDEO, text_encoder=TINY_BERT, text_encoder_init=None,
               text_lists=str(latin1_list), embed_dim=8)
    offset = latin1_list.read_bytes().index(b'\xe9')
    with pytest.raises(ValueError, match=rf'classes\.csv:3: not UTF-8 text: byte offset {offset} \(0xe9\)'):
        build_model(cfg)
