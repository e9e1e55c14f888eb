"""tests/ mirrors the project: each test folder is named after the package, tool or config folder it tests."""
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TESTS = REPO_ROOT / 'tests'
NOT_MIRRORS = ('helpers', 'data', '__pycache__')  # shared test modules and stored files
PACKAGE_WIDE = ('test_import_layers.py', 'test_layout.py')


def mirrored_folder(test_dir: Path) -> Path:
    """tests/models/recognizers -> pyskl/models/recognizers; tests/tools/... -> tools/...; tests/configs -> configs."""
    parts = test_dir.relative_to(TESTS).parts
    if parts[0] in ('tools', 'configs'):
        return REPO_ROOT.joinpath(*parts)
    return REPO_ROOT.joinpath('pyskl', *parts)


def test_every_test_folder_mirrors_a_project_folder():
    folders = [p for p in TESTS.rglob('*') if p.is_dir()
               and not set(p.relative_to(TESTS).parts) & set(NOT_MIRRORS)]
    assert folders
    unmatched = sorted(str(p.relative_to(TESTS)) for p in folders if not mirrored_folder(p).is_dir())
    assert not unmatched, f'test folders without a package, tool or config folder of the same name: {unmatched}'


def test_only_package_wide_tests_sit_at_the_top():
    top = sorted(p.name for p in TESTS.glob('test_*.py'))
    assert set(top) <= set(PACKAGE_WIDE), f'move {sorted(set(top) - set(PACKAGE_WIDE))} next to what they test'


def test_test_module_names_are_unique():
    # the test folders are not packages: two modules of one name would shadow each other
    names = {}
    for path in TESTS.rglob('test_*.py'):
        names.setdefault(path.name, []).append(str(path.relative_to(TESTS)))
    assert not {n: p for n, p in names.items() if len(p) > 1}
