"""`FormatCompactKeypoints`: end a pose pipeline at fixed-shape keypoints, for heatmaps drawn inside the model."""
import numpy as np

from ..registry import PIPELINES

# Coordinate given to the padding people: far outside any image, so that no window of theirs reaches a pixel
# (whatever sigma, scaling or use_score), on top of their score 0.
PAD_COORDINATE = -1e6


@PIPELINES.register_module()
class FormatCompactKeypoints:
    """Reshape the sampled keypoints into fixed-shape clips, in place of ``GeneratePoseTarget`` + ``FormatShape``.

    The heatmap volume is then drawn by the model on its device (``train_cfg`` / ``test_cfg`` ``heatmap`` of the
    recognizer, see `BaseRecognizer`), so the data loader moves kilobytes of keypoints per sample instead of tens
    of megabytes of heatmaps. Put it where ``GeneratePoseTarget`` was (after sampling, decoding, cropping,
    resizing and flipping) and collect ``keypoint``, ``keypoint_score`` and ``img_shape``.

    Every sample gets ``max_people`` people so that samples collate: missing people are padded with score 0 and
    coordinates far outside the image (they draw nothing, also with ``use_score=False``). A sample with more people
    keeps the ``max_people`` with the highest total score (in their original order); only for such samples do the
    heatmaps differ from the CPU pipeline's, which draws everyone. Without ``keypoint_score`` the scores are 1.

    Reads ``keypoint`` ``[M, num_clips * clip_len, V, 2|3]``, ``keypoint_score`` ``[M, num_clips * clip_len, V]``
    (optional), ``num_clips``, ``clip_len``. Writes ``keypoint`` float32 ``[num_clips, max_people, clip_len, V, 2]``
    and ``keypoint_score`` float32 ``[num_clips, max_people, clip_len, V]``; ``img_shape`` ``(H, W)`` is kept.

    Args:
        max_people (int): people per sample after padding (2 for NTU RGB+D).
    """

    def __init__(self, max_people: int = 2) -> None:
        if int(max_people) < 1:
            raise ValueError(f'FormatCompactKeypoints: max_people must be a positive int, got {max_people!r}')
        self.max_people = int(max_people)

    def __call__(self, results: dict) -> dict:
        name = results.get('frame_dir', '?')
        missing = [key for key in ('keypoint', 'num_clips', 'clip_len', 'img_shape') if key not in results]
        if missing:
            raise KeyError(f'FormatCompactKeypoints: sample {name!r} lacks {missing}; put UniformSampleFrames and '
                           f'PoseDecode before it')
        kps = np.asarray(results['keypoint'], dtype=np.float32)
        num_clips, clip_len = int(results['num_clips']), int(results['clip_len'])
        if kps.ndim != 4 or kps.shape[-1] < 2 or kps.shape[1] != num_clips * clip_len:
            raise ValueError(f'FormatCompactKeypoints: sample {name!r} has keypoint shape {kps.shape} but expected '
                             f'[M, num_clips * clip_len = {num_clips * clip_len}, V, 2]')
        num_people, num_frames, num_joints = kps.shape[:3]
        if 'keypoint_score' in results:
            scores = np.asarray(results['keypoint_score'], dtype=np.float32)
            if scores.shape != kps.shape[:3]:
                raise ValueError(f'FormatCompactKeypoints: sample {name!r} has keypoint_score shape {scores.shape} '
                                 f'but keypoint shape {kps.shape}; they must agree on [M, T, V]')
        else:
            scores = np.ones(kps.shape[:3], dtype=np.float32)
        if num_people > self.max_people:
            kept = np.sort(np.argsort(-scores.reshape(num_people, -1).sum(axis=1), kind='stable')[:self.max_people])
            kps, scores = kps[kept], scores[kept]
        out_kps = np.full((self.max_people, num_frames, num_joints, 2), PAD_COORDINATE, dtype=np.float32)
        out_scores = np.zeros((self.max_people, num_frames, num_joints), dtype=np.float32)
        out_kps[:len(kps)] = kps[..., :2]
        out_scores[:len(scores)] = scores
        # [M, clips * T, ...] -> [clips, M, T, ...]
        out_kps = out_kps.reshape(self.max_people, num_clips, clip_len, num_joints, 2).transpose(1, 0, 2, 3, 4)
        out_scores = out_scores.reshape(self.max_people, num_clips, clip_len, num_joints).transpose(1, 0, 2, 3)
        results['keypoint'] = np.ascontiguousarray(out_kps)
        results['keypoint_score'] = np.ascontiguousarray(out_scores)
        results['img_shape'] = tuple(int(side) for side in results['img_shape'])
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(max_people={self.max_people})'
