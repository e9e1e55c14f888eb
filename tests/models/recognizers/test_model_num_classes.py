"""model_num_classes: what a built recognizer scores, read through wrappers."""
import torch

from pyskl.models.recognizers.base import model_num_classes


def test_model_num_classes_of_a_classifier_and_a_text_recognizer():
    from pyskl.models import build_model
    model = build_model(dict(type='Recognizer3D', backbone=dict(type='ResNet3dSlowOnly', in_channels=17,
                                                                base_channels=4, num_stages=3, out_indices=(2, ),
                                                                stage_blocks=(1, 1, 1), conv1_stride=(1, 1),
                                                                pool1_stride=(1, 1), inflate=(0, 1, 1),
                                                                spatial_strides=(2, 2, 2),
                                                                temporal_strides=(1, 1, 2)),
                             cls_head=dict(type='I3DHead', in_channels=64, num_classes=7)))
    assert model_num_classes(model) == 7

    class TextBranch(torch.nn.Module):
        num_sentences = 5

    class TextModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.text_branch = TextBranch()
    assert model_num_classes(TextModel()) == 5
    assert model_num_classes(torch.nn.Linear(1, 1)) is None


def test_model_num_classes_reads_through_a_data_parallel_wrapper():
    class Wrapper(torch.nn.Module):
        def __init__(self, module):
            super().__init__()
            self.module = module

    class Scored(torch.nn.Module):
        num_classes = 9
    assert model_num_classes(Wrapper(Scored())) == 9
