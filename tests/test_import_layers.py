"""The package layers import downward only (the table of docs/architecture.md), and no import runs in a circle.

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
    ('models', ('pyskl.datasets', 'pyskl.apis', 'pyskl.visualization', 'pyskl.core.hooks', 'pyskl.core.loops',
                'pyskl.core.runner', 'pyskl.core.parallel')),
    ('heatmaps', ('pyskl.datasets', 'pyskl.models', 'pyskl.core', 'pyskl.apis', 'pyskl.visualization')),
    ('utils', ('pyskl.datasets', 'pyskl.models', 'pyskl.heatmaps', 'pyskl.core', 'pyskl.apis',
               'pyskl.visualization')),
    # the data side takes the metrics of core.evaluation (behind `evaluate`), nothing else of core
    ('datasets', ('pyskl.models', 'pyskl.apis', 'pyskl.visualization', 'pyskl.core.hooks', 'pyskl.core.loops',
                  'pyskl.core.runner', 'pyskl.core.parallel', 'pyskl.core.fast_paths')),
    ('core', ('pyskl.apis', 'pyskl.visualization')),
    ('visualization', ('pyskl.apis', 'pyskl.models', 'pyskl.core.hooks', 'pyskl.core.runner')),
])
def test_no_upward_imports(subpackage, forbidden):
    assert not offending_imports(subpackage, forbidden)


def package_modules() -> dict:
    return {module_name(path): path for path in sorted(PACKAGE.rglob('*.py'))}


def import_graph(modules: dict) -> dict:
    """module -> the package modules it imports (``from a import b`` counts as ``a.b`` when that is a module)."""
    def resolve(name: str):
        while name and name not in modules:
            name = name.rpartition('.')[0]
        return name or None

    graph = {}
    for name, path in modules.items():
        targets = set()
        imports = list(imported_modules(path))
        for index, (line, module) in enumerate(imports):
            if not module.startswith('pyskl'):
                continue
            # `from . import x` yields `pkg` then `pkg.x`: the dependency is the submodule when there is one
            later = [m for ln, m in imports[index + 1:] if ln == line and m.rpartition('.')[0] == module]
            if module in modules and later and all(m in modules for m in later):
                continue
            target = resolve(module)
            if target and target != name:
                targets.add(target)
        graph[name] = targets
    return graph


def import_cycles(graph: dict) -> list:
    """The strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index, low, on_stack, stack, cycles = {}, {}, set(), [], []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def test_the_cycle_finder_finds_a_circle_and_ignores_a_chain():
    graph = {'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}, 'e': set()}
    assert import_cycles(graph) == [['a', 'b', 'c']]
    assert import_cycles({'a': {'b'}, 'b': {'c'}, 'c': set()}) == []


def test_no_import_runs_in_a_circle():
    # every import statement counts, also one inside a function: a lazy import only hides a circle from Python
    cycles = import_cycles(import_graph(package_modules()))
    assert not cycles, f'modules importing each other: {cycles}'


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
