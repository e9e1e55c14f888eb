"""shutdown_dist: a finished distributed tool destroys its process group; without one it does nothing."""
import torch.distributed as dist

from pyskl.utils.dist import get_dist_info, shutdown_dist


def test_shutdown_destroys_the_process_group(tmp_path):
    store = dist.FileStore(str(tmp_path / 'store'), 1)
    dist.init_process_group('gloo', store=store, rank=0, world_size=1)
    try:
        assert dist.is_initialized()
        shutdown_dist()
        assert not dist.is_initialized()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    assert get_dist_info() == (0, 1)


def test_shutdown_without_a_process_group_is_a_no_op():
    assert not dist.is_initialized()
    shutdown_dist()
    assert not dist.is_initialized()
