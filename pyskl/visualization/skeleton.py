"""Skeleton clips as image frames (COCO-17 limbs drawn with OpenCV) and writing them as GIF / MP4 (imageio)."""
import importlib.util
import io
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .outputs import write_bytes

# COCO-17 limbs (joint index pairs) and whether each is on the person's left (0), right (1) or centre (2)
COCO17_LIMBS = ((0, 1), (0, 2), (1, 3), (2, 4), (5, 6), (5, 7), (7, 9), (6, 8), (8, 10), (5, 11), (6, 12), (11, 12),
                (11, 13), (13, 15), (12, 14), (14, 16))
COCO17_LIMB_SIDES = (0, 1, 0, 1, 2, 0, 0, 1, 1, 0, 1, 2, 0, 0, 1, 1)
SIDE_COLORS = ((255, 140, 0), (60, 200, 60), (200, 200, 200))  # RGB: left orange, right green, centre grey
PERSON_SHADE = (1.0, 0.6, 0.45, 0.35)
MP4_HINT = 'pip install imageio-ffmpeg (or pip install -e ".[video]")'


def _canvas_scale(img_shape: Tuple[int, int], width: int) -> float:
    return width / float(img_shape[1])


def draw_skeleton_frame(keypoint: np.ndarray, score: Optional[np.ndarray], img_shape: Tuple[int, int],
                        width: int = 320, score_thr: float = 0.05, caption: str = '') -> np.ndarray:
    """One frame of all persons: keypoint [M, V, 2] (pixels), score [M, V] -> RGB image [H', width, 3] uint8.

    Limbs are drawn for COCO-17 skeletons (V = 17); other layouts get joints only. A joint at (0, 0) or with a
    score below ``score_thr`` is missing.
    """
    import cv2
    scale = _canvas_scale(img_shape, width)
    height = max(1, int(round(img_shape[0] * scale)))
    canvas = np.full((height, width, 3), 255, np.uint8)
    num_persons, num_joints = keypoint.shape[:2]
    score = np.ones((num_persons, num_joints), np.float32) if score is None else score
    for m in range(num_persons):
        shade = PERSON_SHADE[min(m, len(PERSON_SHADE) - 1)]
        pts = keypoint[m] * scale
        visible = (score[m] >= score_thr) & np.any(keypoint[m] != 0, axis=-1) & np.all(np.isfinite(pts), axis=-1)
        if num_joints == 17:
            for (a, b), side in zip(COCO17_LIMBS, COCO17_LIMB_SIDES):
                if visible[a] and visible[b]:
                    color = tuple(int(255 - (255 - c) * shade) for c in SIDE_COLORS[side])
                    cv2.line(canvas, tuple(int(v) for v in pts[a]), tuple(int(v) for v in pts[b]), color, 2,
                             cv2.LINE_AA)
        for v in np.nonzero(visible)[0]:
            color = tuple(int(255 - 255 * shade * 0.9) for _ in range(3))
            cv2.circle(canvas, tuple(int(c) for c in pts[v]), 3, color, -1, cv2.LINE_AA)
    if caption:
        cv2.putText(canvas, caption, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return canvas


def heatmap_panel(volume: np.ndarray, height: int) -> np.ndarray:
    """Heatmaps [K, H, W] of one frame -> an RGB panel [height, height * W / H, 3]: the maximum over the K
    channels, coloured (values are in [0, 1])."""
    import cv2
    frame = np.clip(volume.max(axis=0), 0, 1)
    width = max(1, int(round(height * frame.shape[1] / frame.shape[0])))
    frame = cv2.resize((frame * 255).astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST)
    return cv2.applyColorMap(frame, cv2.COLORMAP_INFERNO)[..., ::-1].copy()


def text_panel(lines: Sequence[str], width: int, line_height: int = 16) -> np.ndarray:
    """White RGB panel with one line of (ASCII) text per entry."""
    import cv2
    panel = np.full((line_height * len(lines) + 6, width, 3), 255, np.uint8)
    for i, line in enumerate(lines):
        text = line.encode('ascii', 'replace').decode('ascii')
        cv2.putText(panel, text, (4, line_height * (i + 1)), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1,
                    cv2.LINE_AA)
    return panel


def stack_panels(rows: List[List[np.ndarray]]) -> np.ndarray:
    """Panels side by side in each row, rows on top of each other, padded white to a common size."""
    lines = []
    for row in rows:
        height = max(p.shape[0] for p in row)
        lines.append(np.concatenate([np.pad(p, ((0, height - p.shape[0]), (0, 0), (0, 0)), constant_values=255)
                                     for p in row], axis=1))
    width = max(line.shape[1] for line in lines)
    return np.concatenate([np.pad(line, ((0, 0), (0, width - line.shape[1]), (0, 0)), constant_values=255)
                           for line in lines], axis=0)


def write_video(path: str, frames: Sequence[np.ndarray], fps: float = 10.0) -> None:
    """Write RGB frames as an animated GIF (pillow) or an MP4 (needs imageio-ffmpeg), atomically."""
    import imageio.v2 as imageio
    ext = osp.splitext(path)[1].lower()
    if ext not in ('.gif', '.mp4'):
        raise ValueError(f'--out {path}: write a .gif or an .mp4 file')
    if ext == '.mp4' and importlib.util.find_spec('imageio_ffmpeg') is None:
        raise ImportError(f'writing {path} (MP4) needs the imageio-ffmpeg package: {MP4_HINT}; or write a .gif')
    frames = [np.ascontiguousarray(f) for f in frames]
    height = max(f.shape[0] for f in frames)
    width = max(f.shape[1] for f in frames)
    if ext == '.mp4':  # even sizes for the H.264 encoder
        height, width = height + height % 2, width + width % 2
    frames = [np.pad(f, ((0, height - f.shape[0]), (0, width - f.shape[1]), (0, 0)), constant_values=255)
              for f in frames]
    # encoded in memory (imageio stages what its ffmpeg writer needs in a temporary file of its own, which it
    # removes), then written by the package's one atomic writer
    buffer = io.BytesIO()
    if ext == '.gif':
        imageio.mimsave(buffer, frames, format='GIF', duration=1000.0 / fps, loop=0)
    else:
        imageio.mimsave(buffer, frames, format='FFMPEG', fps=fps, macro_block_size=1)
    write_bytes(path, buffer.getvalue())
