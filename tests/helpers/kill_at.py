"""Run a tool and kill it with SIGKILL at a chosen point, as a crash or ``kill -9`` would.

Usage: ``python kill_at.py POINT TOOL [ARGS...]`` with ``POINT`` one of

* ``train:E:I``: before training iteration ``I`` of epoch ``E`` (both counted from 1);
* ``eval:E:B``: before batch ``B`` of the evaluation that follows epoch ``E``;
* ``checkpoint:E``: half-way through writing ``epoch_E.pth`` (half of its bytes are on disk).

Only rank 0 kills. Under torchrun (which starts every worker in its own session) it kills the other workers, the
launcher and itself, all at once with SIGKILL; otherwise only itself. Linux only (reads ``/proc``).
"""
import io
import os
import runpy
import signal
import sys


def _children(parent: int) -> list:
    pids = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            pids.append(int(entry))
    return pids


def die() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    if 'TORCHELASTIC_RUN_ID' in os.environ:
        launcher = os.getppid()
        for pid in _children(launcher) + [launcher]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    os.kill(os.getpid(), signal.SIGKILL)


def install(point: str) -> None:
    kind, *nums = point.split(':')
    nums = [int(n) for n in nums]
    if int(os.environ.get('RANK', '0')) != 0:
        return
    if kind == 'train':
        from pyskl.core.runner import EpochRunner
        run_iter = EpochRunner.run_iter

        def patched_run_iter(self, data_batch, train_mode, **kwargs):
            if train_mode and self.epoch + 1 == nums[0] and self.inner_iter + 1 == nums[1]:
                die()
            return run_iter(self, data_batch, train_mode, **kwargs)
        EpochRunner.run_iter = patched_run_iter
    elif kind == 'eval':
        from pyskl.core import hooks
        from pyskl.core import loops as test_module
        state = dict(epoch=None, batches=0)
        for cls in (hooks.EvalHook, hooks.DistEvalHook):
            original = cls._do_evaluate

            def patched_do_evaluate(self, runner, _original=original):
                state.update(epoch=runner.epoch + 1, batches=0)
                return _original(self, runner)
            cls._do_evaluate = patched_do_evaluate
        run_batch = test_module._run_batch

        def patched_run_batch(model, data):
            state['batches'] += 1
            if state['epoch'] == nums[0] and state['batches'] == nums[1]:
                die()
            return run_batch(model, data)
        test_module._run_batch = patched_run_batch
    elif kind == 'checkpoint':
        import torch
        save = torch.save
        target = f'.epoch_{nums[0]}.pth.'  # the temporary file of pyskl.utils.io.atomic_open

        def patched_save(obj, f, *args, **kwargs):
            name = os.path.basename(str(f if isinstance(f, str) else getattr(f, 'name', '')))
            if target in name and name.endswith('.tmp'):
                buffer = io.BytesIO()
                save(obj, buffer, *args, **kwargs)
                data = buffer.getvalue()
                f.write(data[:len(data) // 2])
                f.flush()
                os.fsync(f.fileno())
                die()
            return save(obj, f, *args, **kwargs)
        torch.save = patched_save
    else:
        raise SystemExit(f'unknown kill point {point!r}')


if __name__ == '__main__':
    point, tool, *args = sys.argv[1:]
    sys.path.insert(0, os.path.dirname(os.path.abspath(tool)))
    install(point)
    sys.argv = [tool] + args
    runpy.run_path(tool, run_name='__main__')
