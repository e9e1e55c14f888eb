"""tools/demo.py shows a command's output while it runs instead of after it ends."""
import sys
import time

import pytest
from analysis_helpers import load_tool

CHILD = "import time; print('first line', flush=True); time.sleep(1.5); print('second line', flush=True)"


class TimedStdout:

    def __init__(self):
        self.writes = []

    def write(self, text):
        self.writes.append((time.monotonic(), text))

    def flush(self):
        pass


def test_output_is_streamed_line_by_line(monkeypatch):
    demo = load_tool('demo.py')
    timed = TimedStdout()
    monkeypatch.setattr(sys, 'stdout', timed)
    tail = demo.run([sys.executable, '-c', CHILD])
    end = time.monotonic()
    assert tail == 'first line\nsecond line\n'
    first = next(t for t, text in timed.writes if text == 'first line\n')
    assert end - first > 1.0  # echoed while the child was still running


def test_a_failing_command_stops_the_demo(monkeypatch):
    demo = load_tool('demo.py')
    with pytest.raises(SystemExit, match='exit code 3'):
        demo.run([sys.executable, '-c', 'import sys; print("boom"); sys.exit(3)'])
