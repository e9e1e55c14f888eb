import numpy as np
import pytest
from torch.utils.data import Dataset

from pyskl.datasets.base import BaseDataset
from pyskl.datasets.builder import DATASETS, build_dataset
from pyskl.datasets.dataset_wrappers import ConcatDataset, RepeatDataset


class LabelList(BaseDataset):
    """A dataset whose ``ann_file`` is a string of labels, e.g. '0 1 1 2'."""

    CLASSES = ('a', 'b', 'c')

    def load_annotations(self):
        return [dict(frame_dir=f'{self.ann_file}/{i}', label=int(x)) for i, x in enumerate(self.ann_file.split())]


class OtherLabelList(LabelList):
    pass


@pytest.fixture(autouse=True)
def _registered():
    DATASETS.register_module(module=LabelList, force=True)
    yield
    DATASETS.module_dict.pop('LabelList', None)


def one_hot(labels, num_classes=3):
    return list(np.eye(num_classes, dtype=np.float32)[labels])


def test_repeat_dataset_indexing():
    inner = LabelList('0 1 2', None)
    repeat = RepeatDataset(inner, 3)
    assert repeat._ori_len == 3
    assert len(repeat) == 9
    assert [repeat[i]['frame_dir'] for i in (0, 4, 8)] == ['0 1 2/0', '0 1 2/1', '0 1 2/2']
    assert repeat.CLASSES == ('a', 'b', 'c')
    assert RepeatDataset(list(range(4)), 2).CLASSES is None
    with pytest.raises(ValueError, match='times'):
        RepeatDataset(inner, 0)


def test_repeat_dataset_evaluate_delegates():
    inner = LabelList('0 1 2', None)
    repeat = RepeatDataset(inner, 2)
    scores = one_hot([0, 1, 0])
    assert repeat.evaluate(scores, topk=(1, ), logger='silent') == {'top1_acc': pytest.approx(2 / 3)}
    # one result per repeated sample: the copies of each sample are averaged
    second = one_hot([0, 1, 2])
    second[2] = second[2] * 3  # outweighs the wrong first copy of sample 2
    assert repeat.evaluate(scores + second, topk=(1, ), logger='silent') == {'top1_acc': 1.0}
    with pytest.raises(ValueError, match='expected 3 .* or 6'):
        repeat.evaluate(scores[:2], logger='silent')
    with pytest.raises(NotImplementedError, match='no evaluate'):
        RepeatDataset(list(range(3)), 2).evaluate([1, 2, 3])


def test_concat_dataset_indexing():
    first, second = LabelList('0 1', None), LabelList('2 2 1', None)
    concat = ConcatDataset([first, second])
    assert len(concat) == 5
    assert [concat[i]['frame_dir'] for i in (1, 2, 4)] == ['0 1/1', '2 2 1/0', '2 2 1/2']
    assert concat.CLASSES == ('a', 'b', 'c')
    with pytest.raises(ValueError, match='at least one'):
        ConcatDataset([])


def test_concat_dataset_separate_eval():
    concat = ConcatDataset([LabelList('0 1', None), LabelList('2 2 1', None)])
    scores = one_hot([0, 0, 2, 2, 2])
    out = concat.evaluate(scores, topk=(1, ), logger='silent')
    assert out == {'0_top1_acc': 0.5, '1_top1_acc': pytest.approx(2 / 3)}
    with pytest.raises(ValueError, match='got 4 results for 5 samples'):
        concat.evaluate(scores[:4], logger='silent')


def test_concat_dataset_joint_eval():
    concat = ConcatDataset([LabelList('0 1', None), LabelList('2 2 1', None)], separate_eval=False)
    out = concat.evaluate(one_hot([0, 0, 2, 2, 2]), metrics=['top_k_accuracy', 'mean_class_accuracy'], topk=1,
                          logger='silent')
    assert out == {'top1_acc': 0.6, 'mean_class_accuracy': pytest.approx((1 + 0 + 1) / 3)}
    mixed = ConcatDataset([LabelList('0', None), OtherLabelList('1', None)], separate_eval=False)
    with pytest.raises(NotImplementedError, match='one type'):
        mixed.evaluate(one_hot([0, 1]), logger='silent')


class Plain(Dataset):

    def __len__(self):
        return 2

    def __getitem__(self, idx):
        return idx


def test_concat_dataset_part_without_evaluate():
    concat = ConcatDataset([LabelList('0', None), Plain()])
    assert concat[2] == 1
    with pytest.raises(NotImplementedError, match='part 1'):
        concat.evaluate(one_hot([0, 1, 2]), logger='silent')


def test_build_dataset_wrappers():
    repeat = build_dataset(dict(type='RepeatDataset', times=4, dataset=dict(type='LabelList', ann_file='0 1',
                                                                            pipeline=None)))
    assert isinstance(repeat, RepeatDataset) and len(repeat) == 8
    concat = build_dataset([dict(type='LabelList', ann_file='0', pipeline=None),
                            dict(type='LabelList', ann_file='1 2', pipeline=None)])
    assert isinstance(concat, ConcatDataset) and len(concat) == 3
    concat = build_dataset(dict(type='ConcatDataset', datasets=[dict(type='LabelList', ann_file='0', pipeline=None)]))
    assert isinstance(concat, ConcatDataset) and len(concat) == 1
