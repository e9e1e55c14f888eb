import re
from pathlib import Path

import pytest

from pyskl.utils.class_lists import check_class_list, load_class_list

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED = {'ntu60': 60, 'ntu120': 120, 'hmdb51': 51, 'ucf101': 101}


def write(tmp_path, text, name='classes.csv'):
    path = tmp_path / name
    path.write_text(text, encoding='utf-8')
    return path


@pytest.mark.parametrize('dataset,count', sorted(SHIPPED.items()))
def test_shipped_list_counts(dataset, count):
    names = load_class_list(f'lists/{dataset}.csv')
    assert len(names) == count
    assert len({n.lower() for n in names}) == count


@pytest.mark.parametrize('dataset', sorted(SHIPPED))
def test_shipped_names_are_plain_lowercase_words(dataset):
    for index, name in enumerate(load_class_list(REPO_ROOT / 'lists' / f'{dataset}.csv')):
        assert name == name.lower(), (dataset, index, name)
        assert '_' not in name and '/' not in name, (dataset, index, name)
        assert name == name.strip() and '  ' not in name, (dataset, index, name)
        assert re.fullmatch(r"[a-z0-9' ]+", name), (dataset, index, name)


def test_ntu120_extends_ntu60():
    ntu60 = load_class_list('lists/ntu60.csv')
    ntu120 = load_class_list('lists/ntu120.csv')
    assert ntu120[:60] == ntu60


@pytest.mark.parametrize('action,name', [
    (1, 'drink water'),
    (2, 'eat meal or snack'),
    (3, 'brushing teeth'),
    (8, 'sitting down'),
    (10, 'clapping'),
    (23, 'hand waving'),
    (27, 'jump up'),
    (43, 'falling'),
    (50, 'punching or slapping other person'),
    (58, 'handshaking'),
    (60, 'walking apart from each other'),
])
def test_ntu60_known_actions(action, name):
    # NTU action A<k> has label k - 1
    assert load_class_list('lists/ntu60.csv')[action - 1] == name


@pytest.mark.parametrize('action,name', [
    (61, 'put on headphone'),
    (62, 'take off headphone'),
    (80, 'squat down'),
    (103, 'yawn'),
    (112, 'high five'),
])
def test_ntu120_known_actions(action, name):
    assert load_class_list('lists/ntu120.csv')[action - 1] == name


def test_ntu120_last_is_rock_paper_scissors():
    last = load_class_list('lists/ntu120.csv')[119]
    assert 'rock paper scissors' in last


@pytest.mark.parametrize('index,name', [
    (0, 'brush hair'), (1, 'cartwheel'), (6, 'climb stairs'), (13, 'fencing'), (26, 'pull up'),
    (33, 'shake hands'), (38, 'sit up'), (45, 'sword exercise'), (50, 'wave'),
])
def test_hmdb51_known_rows(index, name):
    assert load_class_list('lists/hmdb51.csv')[index] == name


def test_hmdb51_follows_folder_name_order():
    # label order is the alphabetical order of the official folder names (words joined by '_')
    names = load_class_list('lists/hmdb51.csv')
    folders = ['brush_hair', 'climb', 'climb_stairs', 'kick', 'kick_ball', 'sword', 'sword_exercise', 'wave']
    positions = [names.index(f.replace('_', ' ')) for f in folders]
    assert positions == sorted(positions)


@pytest.mark.parametrize('index,name', [
    (0, 'apply eye makeup'), (7, 'basketball'), (8, 'basketball dunk'), (19, 'brushing teeth'),
    (34, 'hammering'), (35, 'hammer throw'), (59, 'playing daf'), (70, 'punch'), (90, 'tai chi'),
    (100, 'yo yo'),
])
def test_ucf101_known_rows(index, name):
    # index = position in classInd.txt minus one
    assert load_class_list('lists/ucf101.csv')[index] == name


def test_relative_path_falls_back_to_repo_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert len(load_class_list('lists/ntu60.csv')) == 60
    # a file in the current directory wins over the repository copy
    (tmp_path / 'lists').mkdir()
    write(tmp_path / 'lists', 'id,name\n0,wave\n1,clap\n', name='ntu60.csv')
    assert load_class_list('lists/ntu60.csv') == ['wave', 'clap']


def test_list_and_tuple_inputs():
    assert load_class_list(('a b', 'c')) == ['a b', 'c']
    names = ['x', 'y']
    loaded = load_class_list(names)
    assert loaded == names and isinstance(loaded, list)
    with pytest.raises(ValueError, match='repeats'):
        load_class_list(['x', 'X'])
    with pytest.raises(ValueError, match='empty'):
        load_class_list(['x', ' '])
    with pytest.raises(TypeError):
        load_class_list(['x', 3])


def test_quoted_names_and_blank_lines(tmp_path):
    path = write(tmp_path, 'id,name\n0,"eat meal, snack"\n1, drink water \n\n')
    assert load_class_list(path) == ['eat meal, snack', 'drink water']


@pytest.mark.parametrize('text,pattern', [
    ('idx,label\n0,a\n', r'classes\.csv:1: header'),
    ('', 'empty file'),
    ('id,name\n', 'no classes'),
    ('id,name\n0,a\n2,b\n', r'classes\.csv:3: id 2 but expected 1'),
    ('id,name\n1,a\n', r'classes\.csv:2: id 1 but expected 0'),
    ('id,name\n0,a\nx,b\n', r'classes\.csv:3: id .x. is not an integer'),
    ('id,name\n0,drink water\n1,Drink Water\n', r'classes\.csv:3: .* repeats the name on line 2'),
    ('id,name\n0,a\n1,\n', r'classes\.csv:3: class 1 has an empty name'),
    ('id,name\n0,eat meal, snack\n', r'classes\.csv:2: expected 2 fields'),
])
def test_bad_files(tmp_path, text, pattern):
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=pattern):
        load_class_list(path)


def test_missing_file_names_the_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match='lists/no_such_dataset.csv'):
        load_class_list('lists/no_such_dataset.csv')
    with pytest.raises(FileNotFoundError, match='absent.csv'):
        load_class_list(tmp_path / 'absent.csv')


def test_check_class_list():
    check_class_list(['a', 'b'], 2, 'lists/x.csv')
    with pytest.raises(ValueError, match=r'lists/x\.csv has 2 names but num_classes is 3'):
        check_class_list(['a', 'b'], 3, 'lists/x.csv')
    with pytest.raises(ValueError, match='60 names but num_classes is 120'):
        check_class_list(load_class_list('lists/ntu60.csv'), 120, 'lists/ntu60.csv')


# The original SkeletonCLIP++ configs name these lists; their sentences are not shipped here.
SEED_NAMES = {'lists/ntu_60_labels.csv': 'lists/ntu60.csv', 'lists/hmdb51_labels.csv': 'lists/hmdb51.csv',
              'lists/ucf_labels.csv': 'lists/ucf101.csv'}


@pytest.mark.parametrize('seed_name', sorted(SEED_NAMES))
def test_missing_original_list_says_where_to_put_it_and_what_to_use(seed_name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if (REPO_ROOT / seed_name).is_file():
        pytest.skip(f'{seed_name} is present in this checkout')
    with pytest.raises(FileNotFoundError) as info:
        load_class_list(seed_name)
    message = str(info.value)
    assert 'original SkeletonCLIP++ code' in message
    assert f'copy its {seed_name}' in message
    assert f"text_lists={SEED_NAMES[seed_name]!r}" in message
    assert 'not shipped' in message


def test_original_list_copied_next_to_the_config_is_used_word_for_word(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'lists').mkdir()
    rows = ['drink water.', 'eat meal/snack.'] + [f'action number {i}' for i in range(2, 60)]
    text = 'id,name\n' + ''.join(f'{i},{name}\n' for i, name in enumerate(rows))
    (tmp_path / 'lists' / 'ntu_60_labels.csv').write_text(text, encoding='utf-8')
    assert load_class_list('lists/ntu_60_labels.csv') == rows


def hmdb_rows(swapped):
    names = load_class_list('lists/hmdb51.csv')
    assert names[20:22] == ['kick', 'kick ball']
    if swapped:
        names[20], names[21] = names[21], names[20]
    return names


def test_original_hmdb51_list_warns_and_names_the_list_for_new_training(tmp_path, monkeypatch):
    from pyskl.utils.class_lists import SeedClassListWarning
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'lists').mkdir()
    rows = hmdb_rows(swapped=True)
    (tmp_path / 'lists' / 'hmdb51_labels.csv').write_text(
        'id,name\n' + ''.join(f'{i},{name}\n' for i, name in enumerate(rows)), encoding='utf-8')
    with pytest.warns(SeedClassListWarning) as record:
        names = load_class_list('lists/hmdb51_labels.csv')
    assert names == rows and names[20] == 'kick ball'  # read as it is: old checkpoints need this order
    message = str(record[0].message)
    assert 'rows 20 and 21' in message and "text_lists='lists/hmdb51.csv'" in message


def test_our_lists_do_not_warn(recwarn):
    for name in ('hmdb51', 'ntu60', 'ucf101'):
        load_class_list(f'lists/{name}.csv')
    assert not [w for w in recwarn if 'class list' in str(w.message)]
