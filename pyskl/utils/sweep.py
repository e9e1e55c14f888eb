"""The grid of a learning-rate (or any config) sweep: value syntax, expansion, run names, and the sweep record.

Value syntax of ``--set KEY=V1,V2,...``: the text after ``=`` is split at its top-level commas (commas inside
``[...]`` or ``(...)`` belong to one value); every item is parsed exactly as ``--cfg-options`` parses a value
(:class:`mmcv.DictAction`): ``1e-3`` -> float, ``8`` -> int, ``true`` / ``false`` -> bool, ``None``, ``[1,2]`` ->
list, ``(0.9,0.98)`` -> tuple, anything else -> a string. So ``--set optimizer.lr=1e-3,1e-4`` is two runs and
``--set 'optimizer.lr=[1e-3,1e-4]'`` is ONE run whose lr is a list. Strings cannot hold commas or spaces (the
``--cfg-options`` parser of ``tools/train.py`` drops spaces).

Keys given to ``--zip K1,K2,...`` vary together (their ``--set`` lists must have the same length); all other
``--set`` keys, and the seeds, are crossed (cartesian product).
"""
import hashlib
import itertools
import json
import re
from typing import Any, Dict, List, Sequence, Tuple

SEED_KEY = 'seed'
# the last component of a key that selects a data split: such keys are averaged over in the "over splits" table
SPLIT_KEY_NAMES = ('split', 'ann_file')
_SAFE = re.compile(r'[^A-Za-z0-9._+-]+')
MAX_NAME_LEN = 150


class SweepError(ValueError):
    """A sweep definition that cannot be run as given; the message says what to change."""


def split_top_level(text: str) -> List[str]:
    """Split at commas that are not inside brackets, parentheses or quotes."""
    items, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in '\'"':
            quote = ch
        elif ch in '([':
            depth += 1
        elif ch in ')]':
            depth -= 1
            if depth < 0:
                raise SweepError(f'unbalanced brackets in {text!r}')
        elif ch == ',' and depth == 0:
            items.append(text[start:i])
            start = i + 1
    if depth != 0 or quote:
        raise SweepError(f'unbalanced brackets or quotes in {text!r}')
    items.append(text[start:])
    return items


def parse_value(token: str) -> Any:
    """One value, parsed as ``--cfg-options`` (mmcv ``DictAction``) parses it."""
    from mmcv import DictAction
    return DictAction._parse_iterable(token)


def parse_set(option: str) -> Tuple[str, List[Any]]:
    """``'optimizer.lr=1e-3,1e-4'`` -> ``('optimizer.lr', [0.001, 0.0001])``."""
    if '=' not in option:
        raise SweepError(f'--set {option!r}: expected KEY=V1,V2,... (e.g. --set optimizer.lr=1e-3,1e-4)')
    key, text = option.split('=', 1)
    key = key.strip()
    if not re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*', key):
        raise SweepError(f'--set {option!r}: {key!r} is not a dotted config key such as optimizer.lr')
    tokens = split_top_level(text)
    if any(not t.strip() for t in tokens):
        raise SweepError(f'--set {option!r}: empty value (two commas in a row, or a trailing comma?)')
    values = [parse_value(t) for t in tokens]
    return key, values


def format_cfg_value(value: Any) -> str:
    """The ``--cfg-options`` token that parses back to ``value`` (checked), e.g. ``0.001``, ``[1,2]``, ``(1,2)``."""
    token = _token(value)
    if parse_value(token) != value or type(parse_value(token)) is not type(value):
        raise SweepError(f'value {value!r} cannot be passed through --cfg-options (it would arrive as '
                         f'{parse_value(token)!r}); strings must not contain commas, spaces, brackets or quotes, '
                         'nor look like numbers')
    return token


def _token(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return '[' + ','.join(_token(v) for v in value) + ']'
    if isinstance(value, tuple):
        return '(' + ','.join(_token(v) for v in value) + ')'
    if isinstance(value, str):
        return value
    raise SweepError(f'value {value!r} of type {type(value).__name__} cannot be swept; use numbers, strings, '
                     'booleans, None, lists or tuples')


def name_value(value: Any) -> str:
    """A short, filesystem-safe rendering of a value for run names: 1e-05 -> '1e-5', -1 -> '-1', [1,2] -> '1-2'."""
    if isinstance(value, float):
        text = f'{value:g}'
        return re.sub(r'e([+-])0*(\d)', lambda m: 'e' + ('-' if m.group(1) == '-' else '') + m.group(2), text)
    if isinstance(value, (int, bool)) or value is None:
        return str(value)
    if isinstance(value, (list, tuple)):
        return '-'.join(name_value(v) for v in value) or 'empty'
    return _SAFE.sub('-', str(value)).strip('-.') or 'x'


def short_keys(keys: Sequence[str]) -> Dict[str, str]:
    """The shortest dotted suffix of each key that no other key ends with: optimizer.lr -> lr."""
    result = {}
    for key in keys:
        parts = key.split('.')
        for n in range(1, len(parts) + 1):
            suffix = '.'.join(parts[-n:])
            if not any(other != key and (other == suffix or other.endswith('.' + suffix)) for other in keys):
                break
        result[key] = suffix
    return result


def canonical(obj: Any) -> str:
    """A stable JSON text of settings (tuples kept apart from lists)."""
    def tag(v):
        if isinstance(v, tuple):
            return {'__tuple__': [tag(x) for x in v]}
        if isinstance(v, list):
            return [tag(x) for x in v]
        if isinstance(v, dict):
            return {str(k): tag(x) for k, x in v.items()}
        return v
    return json.dumps(tag(obj), sort_keys=True)


def digest(obj: Any, length: int = 8) -> str:
    return hashlib.sha256(canonical(obj).encode()).hexdigest()[:length]


def resolve_zip_keys(zip_option: str, keys: Sequence[str]) -> List[str]:
    """``--zip lr,text_encoder.lr_mult``: each item is a --set key or a unique dotted suffix of one."""
    resolved = []
    for item in (s.strip() for s in zip_option.split(',')):
        matches = [k for k in keys if k == item or k.endswith('.' + item)]
        exact = [k for k in matches if k == item]
        if exact:
            matches = exact
        if len(matches) != 1:
            what = 'matches no' if not matches else f'is ambiguous between {matches}: give the full'
            raise SweepError(f'--zip {zip_option!r}: {item!r} {what} --set key (--set keys: {list(keys)})')
        if matches[0] in resolved:
            raise SweepError(f'--zip {zip_option!r}: {matches[0]!r} is listed twice')
        resolved.append(matches[0])
    return resolved


def build_axes(sets: Sequence[Tuple[str, List[Any]]], zips: Sequence[str] = ()) -> List[Tuple[List[str], List[tuple]]]:
    """Group the --set options into axes: a zip group is one axis of tuples, every other key its own axis."""
    keys = [k for k, _ in sets]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise SweepError(f'--set given twice for {dup}: list all values of a key in one --set')
    if SEED_KEY in keys:
        raise SweepError('use --seeds 0,1,2 for seeds, not --set seed=...')
    values = dict(sets)
    grouped: Dict[str, int] = {}
    groups: List[List[str]] = []
    for option in zips:
        group = resolve_zip_keys(option, keys)
        for key in group:
            if key in grouped:
                raise SweepError(f'{key!r} is in two --zip groups; merge them into one --zip')
            grouped[key] = len(groups)
        lengths = {k: len(values[k]) for k in group}
        if len(set(lengths.values())) != 1:
            raise SweepError(f'--zip {option!r}: the zipped --set lists have different lengths {lengths}; '
                             'zipped keys take one value per run each')
        groups.append(group)
    axes, done = [], set()
    for key in keys:
        if key in done:
            continue
        if key in grouped:
            group = groups[grouped[key]]
            axes.append((group, list(zip(*(values[k] for k in group)))))
            done.update(group)
        else:
            axes.append(([key], [(v, ) for v in values[key]]))
            done.add(key)
    return axes


def expand_grid(sets: Sequence[Tuple[str, List[Any]]], zips: Sequence[str] = (),
                seeds: Sequence[int] = (0, )) -> List[Dict[str, Any]]:
    """Every run of the sweep as an ordered dict of settings (the --set keys in order, then ``seed``).

    The last axis varies fastest; seeds are the innermost loop.
    """
    axes = build_axes(sets, zips)
    if len(set(seeds)) != len(seeds):
        raise SweepError(f'--seeds {list(seeds)} repeats a seed')
    keys = [k for k, _ in sets]
    runs = []
    for combo in itertools.product(*(vals for _, vals in axes), seeds):
        setting = {}
        for (axis_keys, _), values in zip(axes, combo[:-1]):
            setting.update(zip(axis_keys, values))
        run = {k: setting[k] for k in keys}
        run[SEED_KEY] = combo[-1]
        runs.append(run)
    seen = {}
    for run in runs:
        c = canonical(run)
        if c in seen:
            raise SweepError(f'the grid holds the same run twice: {run}; remove the repeated values')
        seen[c] = run
    return runs


def run_names(runs: Sequence[Dict[str, Any]]) -> List[str]:
    """Readable, filesystem-safe, unique and stable work-dir names, e.g. ``lr=0.001_lr_mult=0.01_seed=0``.

    A name depends only on the run's own settings (and on which keys the sweep varies); where two runs would get the
    same name (values that render alike), or a name exceeds 150 characters, a hash of the settings is appended.
    """
    if not runs:
        return []
    keys = list(runs[0])
    short = short_keys(keys)
    names = []
    for run in runs:
        name = '_'.join(f'{_SAFE.sub("-", short[k])}={name_value(run[k])}' for k in keys)
        if len(name) > MAX_NAME_LEN:
            name = name[:MAX_NAME_LEN - 9].rstrip('_-.') + '-' + digest(run)
        names.append(name)
    clashes = {n for n in names if names.count(n) > 1}
    names = [f'{n}-{digest(run)}' if n in clashes else n for n, run in zip(names, runs)]
    assert len(set(names)) == len(names)
    return names


def is_split_key(key: str) -> bool:
    return key.split('.')[-1] in SPLIT_KEY_NAMES


def flatten(cfg: Any, prefix: str = '') -> Dict[str, Any]:
    """``{'a': {'b': 1}}`` -> ``{'a.b': 1}`` (lists stay whole values)."""
    out = {}
    if isinstance(cfg, dict) and cfg:
        for k, v in cfg.items():
            out.update(flatten(v, f'{prefix}{k}.'))
    else:
        out[prefix[:-1]] = cfg
    return out


def check_keys(cfg: dict, keys: Sequence[str], config_path: str, allow_new: bool = False) -> None:
    """Every swept or fixed key must exist in the config, so that a typo does not train N identical runs.

    New entries of ``paramwise_cfg.custom_keys`` (which name modules, e.g. ``video_encoder``) are allowed.
    """
    import difflib
    flat = flatten(cfg)
    for key in keys:
        node, parts = cfg, key.split('.')
        for i, part in enumerate(parts):
            if isinstance(node, dict) and part in node:
                node = node[part]
                continue
            if 'custom_keys' in parts[:i] or allow_new:
                break
            prefix = '.'.join(parts[:i]) or '(top level)'
            close = difflib.get_close_matches(key, list(flat), n=3, cutoff=0.6)
            hint = f' Similar keys: {close}.' if close else ''
            raise SweepError(f'{key!r} is not in {config_path} (found up to {prefix}).{hint} If it is an argument '
                             'the config leaves at its default, pass --allow-new-keys.')
