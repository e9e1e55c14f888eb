"""write_video: a GIF written whole through the package's atomic writer, nothing else left in the folder."""
import imageio.v2 as imageio
import numpy as np
import pytest

from pyskl.visualization import skeleton


def frames(count=3, height=9, width=11):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (height, width, 3), dtype=np.uint8) for _ in range(count)]


def test_a_gif_is_written_whole_and_reads_back(tmp_path):
    out = tmp_path / 'clip.gif'
    clip = frames()
    skeleton.write_video(str(out), clip, fps=5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['clip.gif']  # no temporary file left behind
    read = imageio.mimread(str(out))
    assert len(read) == len(clip)
    assert np.asarray(read[0]).shape[:2] == clip[0].shape[:2]


def test_a_failed_encoding_leaves_the_existing_file_untouched(tmp_path, monkeypatch):
    out = tmp_path / 'clip.gif'
    out.write_bytes(b'previous')

    def broken(*args, **kwargs):
        raise RuntimeError('encoder failed')
    monkeypatch.setattr(imageio, 'mimsave', broken)
    with pytest.raises(RuntimeError, match='encoder failed'):
        skeleton.write_video(str(out), frames(), fps=5)
    assert out.read_bytes() == b'previous'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['clip.gif']


def test_other_formats_are_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match='clip.avi'):
        skeleton.write_video(str(tmp_path / 'clip.avi'), frames())

