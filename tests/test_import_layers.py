"""The package layers import downward only: models/ never imports datasets/, the heatmap engine neither of them.

Imports are read from the source (``ast``), with relative imports resolved against the importing module, so a
test fails on any import statement, also one inside a function or a branch that the other tests never run.
"""
import ast
import subprocess
import sys
from pathlib import Path
from typing import Iterator, Tuple

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = REPO_ROOT / 'pyskl'


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


def imported_modules(path: Path) -> Iterator[Tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``; ``from a import b`` gives ``a`` and ``a.b``."""
    name = module_name(path)
    package = name if path.name == '__init__.py' else name.rpartition('.')[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')
                base = base[:len(base) - node.level + 1]
                module = '.'.join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            yield node.lineno, module
            for alias in node.names:
                yield node.lineno, f'{module}.{alias.name}'


def offending_imports(subpackage: str, forbidden: Tuple[str, ...]):
    found = []
    for path in sorted((PACKAGE / subpackage).rglob('*.py')):
        for line, module in imported_modules(path):
            if module.startswith(forbidden):
                found.append(f'{path.relative_to(REPO_ROOT)}:{line} imports {module}')
    return found


def test_the_resolver_sees_relative_and_absolute_imports(tmp_path, monkeypatch):
    # a module written like the package's own, checked by the same function the layer tests use
    fake = tmp_path / 'pyskl' / 'models' / 'common'
    fake.mkdir(parents=True)
    source = fake / 'probe.py'
    source.write_text('from ...datasets.pipelines import Compose\nimport pyskl.datasets\n'
                      'def f():\n    from ..builder import MODELS\n')
    monkeypatch.setattr(sys.modules[__name__], 'REPO_ROOT', tmp_path)
    modules = {module for _, module in imported_modules(source)}
    assert {'pyskl.datasets.pipelines', 'pyskl.datasets.pipelines.Compose', 'pyskl.datasets',
            'pyskl.models.builder.MODELS'} <= modules


@pytest.mark.parametrize('subpackage,forbidden', [
    ('models', ('pyskl.datasets', )),
    ('heatmaps', ('pyskl.datasets', 'pyskl.models', 'pyskl.core', 'pyskl.apis')),
    ('utils', ('pyskl.datasets', 'pyskl.models', 'pyskl.heatmaps', 'pyskl.core', 'pyskl.apis')),
])
def test_no_upward_imports(subpackage, forbidden):
    assert not offending_imports(subpackage, forbidden)


@pytest.mark.slow  # a fresh interpreter imports torch
def test_the_heatmap_engine_imports_alone():
    # a fresh interpreter: importing the engine first loads neither the data nor the model packages (and no
    # circular import breaks it)
    code = ('import sys, pyskl.heatmaps; '
            'loaded = sorted(m for m in sys.modules if m.startswith(("pyskl.datasets", "pyskl.models"))); '
            'assert not loaded, loaded')
    result = subprocess.run([sys.executable, '-c', code], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
@pytest.mark.parametrize('first', ['pyskl.models.common.heatmap', 'pyskl.datasets.pipelines.heatmap_related'])
def test_each_side_of_the_engine_imports_first(first):
    result = subprocess.run([sys.executable, '-c', f'import {first}'], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
