"""The embedded synthetic skeleton dataset: COCO-17 stick figures performing describable actions.

Everything here runs offline and in a few seconds, so the whole product (training, testing, the language
branch) can be exercised without downloading any real dataset.

How a clip is made:

1. A body is drawn with its own bone lengths (`BodyShape`), in units of body height.
2. A pose trajectory is a set of joint angles per frame (`_neutral_pose` plus small idle motion). The class's
   motion function changes some angles over a progress variable ``u`` (``0`` before the action starts, ``1``
   after it ends, with a random lead-in, tail and time warp), with random speed, phase, amplitude and number of
   repetitions.
3. `forward_kinematics` turns the angles into 2D joint positions. The body model is planar: every bone has an
   in-plane angle and a foreshortening factor (``1`` = parallel to the image, smaller = pointing towards the
   camera), which is enough to show punches, bows, squats and turns from a frontal camera.
4. The figure is scaled and placed in a 640x480 frame, jittered, given pose-estimator-like scores and the
   occasional missing joint; sometimes a second person (doing something unrelated) stands nearby.

The result uses pyskl's annotation format (see `generate_synthetic_dataset`). The class sentences are
`SYNTHETIC_CLASSES`; ``lists/synthetic.csv`` is the same list written by `class_list_csv`.

Left / right pairs ("waving the right hand" / "waving the left hand") differ only in which limb moves, so
horizontal flipping (``Flip`` in training, ``double`` in ``GeneratePoseTarget`` at test time) turns one class
into the other; configs for this dataset should not use them.
"""
import logging
import os
import pickle
from dataclasses import dataclass
from functools import partial
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..utils.io import atomic_write_bytes

logger = logging.getLogger(__name__)

COCO17_KEYPOINTS = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder',
                    'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
                    'right_knee', 'left_ankle', 'right_ankle')
NUM_KEYPOINTS = len(COCO17_KEYPOINTS)
DEFAULT_IMG_SHAPE = (480, 640)

Pose = Dict[str, np.ndarray]
# side prefix of the pose keys -> horizontal sign of "outwards" for a person facing the camera (the person's left
# appears on the right of the image, as in COCO annotations)
SIDE_SIGN = {'l': 1.0, 'r': -1.0}
OTHER_SIDE = {'l': 'r', 'r': 'l'}
ARM_KEYS = ('arm', 'elbow', 'ua_fs', 'fa_fs')
LEG_KEYS = ('leg', 'knee', 'th_fs', 'sn_fs')

# how hard each joint is for a pose estimator: subtracted from the person's base score
_JOINT_DIFFICULTY = np.array([0.0, 0.02, 0.02, 0.05, 0.05, 0.0, 0.0, 0.05, 0.05, 0.1, 0.1, 0.04, 0.04, 0.06, 0.06,
                              0.09, 0.09])
# joints that most often vanish for a few frames (elbows, wrists, knees, ankles, ears)
_OCCLUDABLE = np.array([3, 4, 7, 8, 9, 10, 13, 14, 15, 16])


@dataclass
class BodyShape:
    """Bone lengths of one stick figure, in units of its standing height (feet to the top of the head).

    Attributes:
        torso: pelvis centre to neck.
        neck: neck to head centre.
        head_radius: radius of the circle the face features (eyes, ears, nose) sit on.
        shoulder: half the shoulder width.
        hip: half the hip width.
        upper_arm, forearm, thigh, shin: limb bones.
    """

    torso: float = 0.29
    neck: float = 0.11
    head_radius: float = 0.06
    shoulder: float = 0.12
    hip: float = 0.07
    upper_arm: float = 0.185
    forearm: float = 0.145
    thigh: float = 0.245
    shin: float = 0.245

    @classmethod
    def sample(cls, rng: np.random.Generator) -> 'BodyShape':
        """A body with every bone length scaled by its own factor around the average proportions."""
        base = cls()
        scaled = {name: value * rng.normal(1.0, 0.05) for name, value in vars(base).items()}
        # arms and legs of one person vary together
        arm, leg = rng.normal(1.0, 0.04, size=2)
        for name in ('upper_arm', 'forearm'):
            scaled[name] *= arm
        for name in ('thigh', 'shin'):
            scaled[name] *= leg
        return cls(**scaled)


def _direction(angle: np.ndarray) -> np.ndarray:
    """Unit vectors ``[T, 2]`` in image coordinates (y down) at ``angle`` radians from straight down towards +x."""
    return np.stack([np.sin(angle), np.cos(angle)], axis=-1)


def forward_kinematics(pose: Pose, body: BodyShape) -> Tuple[np.ndarray, np.ndarray]:
    """Joint positions of a pose trajectory.

    Angles are radians. Limb angles are measured from straight down and grow outwards (away from the body's
    midline), so ``arm = pi / 2`` holds the arm out sideways and ``arm = pi`` straight up; the elbow and knee
    angles are relative to the upper bone. Arms hang from the torso (they follow its lean), legs from the pelvis.

    Args:
        pose: arrays ``[T]``: ``root_x`` (horizontal pelvis shift), ``lift`` (vertical shift, negative is up:
            jumping), ``lean`` (torso tilt towards +x), ``torso_fs``, ``yaw`` (turn of the body about the vertical
            axis; 0 faces the camera), ``head_tilt``, ``head_fs``, and per side prefix ``l_`` / ``r_``: ``arm``,
            ``elbow``, ``ua_fs``, ``fa_fs``, ``leg``, ``knee``, ``th_fs``, ``sn_fs`` (``*_fs`` are foreshortening
            factors of the bones).
        body: bone lengths.

    Returns:
        tuple: ``joints`` float64 ``[T, 17, 2]`` in body-height units, x to the right, y down, with the ground
        (the lower ankle when standing) at ``y = 0``; and ``visible`` bool ``[T, 17]``, False for face features
        turned away from the camera.
    """
    num_frames = len(pose['lean'])
    joints = np.zeros((num_frames, NUM_KEYPOINTS, 2))
    visible = np.ones((num_frames, NUM_KEYPOINTS), dtype=bool)
    lean, yaw = pose['lean'], pose['yaw']
    width = np.cos(yaw)

    # legs first, relative to the pelvis centre, to find how high the pelvis is above the ground
    pelvis = np.zeros((num_frames, 2))
    leg_joints = {}
    for side, sign in SIDE_SIGN.items():
        hip = np.stack([sign * body.hip * width, np.zeros(num_frames)], axis=-1)
        thigh_angle = sign * pose[f'{side}_leg']
        knee = hip + (body.thigh * pose[f'{side}_th_fs'])[:, None] * _direction(thigh_angle)
        shin_angle = sign * (pose[f'{side}_leg'] + pose[f'{side}_knee'])
        ankle = knee + (body.shin * pose[f'{side}_sn_fs'])[:, None] * _direction(shin_angle)
        leg_joints[side] = (hip, knee, ankle)
    ground = np.maximum(leg_joints['l'][2][:, 1], leg_joints['r'][2][:, 1])
    pelvis[:, 0] = pose['root_x']
    pelvis[:, 1] = -ground + pose['lift']
    for side, (hip, knee, ankle) in leg_joints.items():
        offset = 0 if side == 'l' else 1
        joints[:, 11 + offset] = pelvis + hip
        joints[:, 13 + offset] = pelvis + knee
        joints[:, 15 + offset] = pelvis + ankle

    torso_up = np.stack([np.sin(lean), -np.cos(lean)], axis=-1)
    torso_right = np.stack([np.cos(lean), np.sin(lean)], axis=-1)
    neck = pelvis + (body.torso * pose['torso_fs'])[:, None] * torso_up
    for side, sign in SIDE_SIGN.items():
        offset = 0 if side == 'l' else 1
        shoulder = neck + (sign * body.shoulder * width)[:, None] * torso_right
        upper_angle = -lean + sign * pose[f'{side}_arm']
        elbow = shoulder + (body.upper_arm * pose[f'{side}_ua_fs'])[:, None] * _direction(upper_angle)
        fore_angle = upper_angle + sign * pose[f'{side}_elbow']
        wrist = elbow + (body.forearm * pose[f'{side}_fa_fs'])[:, None] * _direction(fore_angle)
        joints[:, 5 + offset] = shoulder
        joints[:, 7 + offset] = elbow
        joints[:, 9 + offset] = wrist

    head_angle = lean + pose['head_tilt']
    head_up = np.stack([np.sin(head_angle), -np.cos(head_angle)], axis=-1)
    head_right = np.stack([np.cos(head_angle), np.sin(head_angle)], axis=-1)
    head = neck + (body.neck * pose['head_fs'])[:, None] * head_up
    # face features on a horizontal circle around the head: (azimuth, height in head radii, joint index)
    for azimuth, height, index in ((0.0, -0.2, 0), (0.4, 0.25, 1), (-0.4, 0.25, 2), (1.45, 0.05, 3),
                                   (-1.45, 0.05, 4)):
        across = body.head_radius * np.sin(azimuth + yaw)
        depth = np.cos(azimuth + yaw)
        joints[:, index] = head + across[:, None] * head_right + (height * body.head_radius) * head_up
        visible[:, index] = depth > -0.2
    return joints, visible


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _window(u: np.ndarray, ramp: float) -> np.ndarray:
    """0 outside the action, rising to 1 over the first ``ramp`` of it and falling over the last ``ramp``."""
    return _smoothstep(u / ramp) * _smoothstep((1.0 - u) / ramp)


def _inner(u: np.ndarray, ramp: float) -> np.ndarray:
    """Progress through the part of the action between the two ramps of `_window`."""
    return np.clip((u - ramp) / (1.0 - 2.0 * ramp), 0.0, 1.0)


def _strokes(u: np.ndarray, reps: int, hold: float) -> np.ndarray:
    """``reps`` bumps over the action: each rises 0 -> 1, holds for ``hold`` of its time, and falls back."""
    phase = (u * reps) % 1.0
    ramp = (1.0 - hold) / 2.0
    return _smoothstep(phase / ramp) * _smoothstep((1.0 - phase) / ramp)


def _blend(current: np.ndarray, target: Union[np.ndarray, float], weight: np.ndarray) -> np.ndarray:
    return current + (target - current) * weight


def _smooth_noise(num_frames: int, rng: np.random.Generator, amplitude: float, max_cycles: float = 2.0) -> np.ndarray:
    """Slow random wobble ``[T]``: two sinusoids with random frequencies (cycles per clip) and phases."""
    t = np.linspace(0.0, 1.0, num_frames)
    cycles = rng.uniform(0.2, max_cycles, size=2)
    phases = rng.uniform(0.0, 2 * np.pi, size=2)
    weights = rng.normal(0.0, 1.0, size=2)
    wave = sum(w * np.sin(2 * np.pi * c * t + p) for w, c, p in zip(weights, cycles, phases))
    return amplitude * wave / np.sqrt(2.0)


def _progress(num_frames: int, rng: np.random.Generator) -> np.ndarray:
    """Progress ``u`` in [0, 1] per frame: random lead-in and tail (u stays 0 / 1) and a smooth time warp."""
    t = np.arange(num_frames, dtype=np.float64)
    start = rng.uniform(0.0, 0.2) * num_frames
    end = (1.0 - rng.uniform(0.0, 0.15)) * num_frames - 1
    u = np.clip((t - start) / max(end - start, 1.0), 0.0, 1.0)
    warp = rng.uniform(-0.5, 0.5)
    return np.clip(u + warp * np.sin(2 * np.pi * u) / (2 * np.pi), 0.0, 1.0)


def _neutral_pose(num_frames: int, rng: np.random.Generator) -> Pose:
    """A relaxed standing pose with small idle motion (breathing, swaying arms, head and weight shifts)."""
    n = num_frames
    pose = dict(
        root_x=_smooth_noise(n, rng, 0.008),
        lift=np.zeros(n),
        lean=rng.normal(0.0, 0.02) + _smooth_noise(n, rng, 0.015),
        torso_fs=1.0 + _smooth_noise(n, rng, 0.008, max_cycles=4.0),
        yaw=np.full(n, rng.uniform(-0.45, 0.45)) + _smooth_noise(n, rng, 0.05),
        head_tilt=rng.normal(0.0, 0.04) + _smooth_noise(n, rng, 0.04),
        head_fs=np.ones(n),
    )
    for side in SIDE_SIGN:
        pose[f'{side}_arm'] = rng.uniform(0.08, 0.22) + _smooth_noise(n, rng, 0.04)
        pose[f'{side}_elbow'] = rng.uniform(0.05, 0.35) + _smooth_noise(n, rng, 0.05)
        pose[f'{side}_ua_fs'] = np.full(n, rng.uniform(0.93, 1.0))
        pose[f'{side}_fa_fs'] = np.full(n, rng.uniform(0.8, 1.0))
        pose[f'{side}_leg'] = np.full(n, rng.uniform(0.02, 0.09))
        pose[f'{side}_knee'] = np.full(n, rng.uniform(-0.04, 0.0))
        pose[f'{side}_th_fs'] = np.full(n, rng.uniform(0.97, 1.0))
        pose[f'{side}_sn_fs'] = np.full(n, rng.uniform(0.97, 1.0))
    return pose


def _arm_ik(target_out: np.ndarray, target_down: np.ndarray, upper: np.ndarray,
            fore: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Arm angles that put the wrist at a target, elbow pointing outwards.

    Args:
        target_out, target_down: ``[T]`` wrist position relative to the shoulder: outwards and downwards.
        upper, fore: ``[T]`` projected lengths of the upper arm and the forearm.

    Returns:
        tuple: ``arm`` and ``elbow`` angles ``[T]`` as `forward_kinematics` reads them.
    """
    dist = np.hypot(target_out, target_down)
    dist = np.clip(dist, np.abs(upper - fore) + 1e-4, upper + fore - 1e-4)
    towards = np.arctan2(target_out, target_down)
    bend = np.arccos(np.clip((upper**2 + dist**2 - fore**2) / (2 * upper * dist), -1.0, 1.0))
    candidates = np.stack([towards + bend, towards - bend])
    # keep the solution whose elbow sits further outwards
    pick = np.argmax(np.sin(candidates), axis=0)
    arm = np.take_along_axis(candidates, pick[None], axis=0)[0]
    # from across the chest (-pi / 2) through hanging (0) and sideways (pi / 2) to above the head (pi)
    arm = np.mod(arm + np.pi / 2, 2 * np.pi) - np.pi / 2
    elbow_out = upper * np.sin(arm)
    elbow_down = upper * np.cos(arm)
    fore_angle = np.arctan2(dist * np.sin(towards) - elbow_out, dist * np.cos(towards) - elbow_down)
    elbow = np.angle(np.exp(1j * (fore_angle - arm)))
    return arm, elbow


def _set_arm_target(pose: Pose, side: str, body: BodyShape, weight: np.ndarray, target_out: np.ndarray,
                    target_down: np.ndarray, ua_fs: Union[np.ndarray, float], fa_fs: Union[np.ndarray, float]) -> None:
    """Blend one arm (with weight ``[T]``) towards the pose that reaches a wrist target (see `_arm_ik`)."""
    n = len(weight)
    ua_fs = np.broadcast_to(ua_fs, (n, )).astype(np.float64)
    fa_fs = np.broadcast_to(fa_fs, (n, )).astype(np.float64)
    arm, elbow = _arm_ik(np.broadcast_to(target_out, (n, )), np.broadcast_to(target_down, (n, )),
                         body.upper_arm * ua_fs, body.forearm * fa_fs)
    pose[f'{side}_arm'] = _blend(pose[f'{side}_arm'], arm, weight)
    pose[f'{side}_elbow'] = _blend(pose[f'{side}_elbow'], elbow, weight)
    pose[f'{side}_ua_fs'] = _blend(pose[f'{side}_ua_fs'], ua_fs, weight)
    pose[f'{side}_fa_fs'] = _blend(pose[f'{side}_fa_fs'], fa_fs, weight)


# ---------------------------------------------------------------------------------------------------------------
# Motions: each changes a pose in place; ``u`` is the action progress, ``amp`` a random amplitude around 1.
# ---------------------------------------------------------------------------------------------------------------


def _wave_hand(pose: Pose, u: np.ndarray, rng: np.random.Generator, body: BodyShape, amp: float, side: str) -> None:
    """Upper arm out to the side, forearm up, swinging from side to side several times."""
    env = _window(u, rng.uniform(0.12, 0.22))
    swing = np.sin(2 * np.pi * rng.uniform(2.5, 6.0) * u + rng.uniform(0, 2 * np.pi))
    arm = rng.uniform(1.3, 1.75) + 0.06 * swing
    elbow = rng.uniform(1.05, 1.4) + amp * rng.uniform(0.35, 0.55) * swing
    pose[f'{side}_arm'] = _blend(pose[f'{side}_arm'], arm, env)
    pose[f'{side}_elbow'] = _blend(pose[f'{side}_elbow'], elbow, env)
    pose[f'{side}_ua_fs'] = _blend(pose[f'{side}_ua_fs'], rng.uniform(0.85, 1.0), env)
    pose[f'{side}_fa_fs'] = _blend(pose[f'{side}_fa_fs'], rng.uniform(0.9, 1.0), env)


def _raise_arm(pose: Pose, u: np.ndarray, rng: np.random.Generator, body: BodyShape, amp: float, side: str) -> None:
    """The straight arm goes up above the head (sideways or through the front), stays a moment, comes down."""
    stroke = _strokes(u, int(rng.integers(1, 3)), rng.uniform(0.25, 0.6))
    through_front = rng.uniform(0.0, 1.0)
    pose[f'{side}_arm'] = _blend(pose[f'{side}_arm'], min(3.05, amp * rng.uniform(2.5, 2.9)), stroke)
    pose[f'{side}_elbow'] = _blend(pose[f'{side}_elbow'], rng.uniform(0.0, 0.2), stroke)
    pose[f'{side}_ua_fs'] = pose[f'{side}_ua_fs'] * (1.0 - 0.55 * through_front * np.sin(np.pi * stroke))
    pose[f'{side}_fa_fs'] = _blend(pose[f'{side}_fa_fs'], 1.0, stroke)


def _raise_both_arms(pose: Pose, u: np.ndarray, rng: np.random.Generator, body: BodyShape, amp: float) -> None:
    """Both straight arms go up above the head and down again, one to three times."""
    reps, hold = int(rng.integers(1, 4)), rng.uniform(0.2, 0.5)
    height = min(3.05, amp * rng.uniform(2.5, 2.9))
    for side in SIDE_SIGN:
        stroke = _strokes(np.clip(u + rng.uniform(-0.02, 0.02), 0, 1), reps, hold)
        pose[f'{side}_arm'] = _blend(pose[f'{side}_arm'], height + rng.normal(0, 0.05), stroke)
        pose[f'{side}_elbow'] = _blend(pose[f'{side}_elbow'], rng.uniform(0.0, 0.25), stroke)
        pose[f'{side}_fa_fs'] = _blend(pose[f'{side}_fa_fs'], 1.0, stroke)


def _punch(pose: Pose, u: np.ndarray, rng: np.random.Generator, body: BodyShape, amp: float, side: str) -> None:
    """Both fists up in a guard; one fist shoots forward (across the chest towards the midline) and back."""
    ramp = rng.uniform(0.1, 0.2)
    guard = _window(u, ramp)
    punch = _strokes(_inner(u, ramp), int(rng.integers(1, 5)), rng.uniform(0.0, 0.2))
    guard_out, guard_down = rng.uniform(-0.07, -0.03), rng.uniform(0.03, 0.09)
    for arm_side in SIDE_SIGN:
        if arm_side == side:
            reach = amp * rng.uniform(0.15, 0.19)
            target_out = _blend(np.full_like(u, guard_out), -reach, punch)
            target_down = _blend(np.full_like(u, guard_down), rng.uniform(-0.02, 0.04), punch)
            _set_arm_target(pose, arm_side, body, guard, target_out, target_down, _blend(0.6, 0.55, punch),
                            _blend(0.75, 0.6, punch))
        else:
            _set_arm_target(pose, arm_side, body, guard, guard_out, guard_down, 0.6, 0.75)
    # the punching shoulder turns forward a little
    pose['yaw'] = pose['yaw'] + SIDE_SIGN[side] * rng.uniform(0.1, 0.3) * punch


def _kick(pose: Pose, u: np.ndarray, rng: np.random.Generator, body: BodyShape, amp: float, side: str) -> None:
    """One leg kicks forward and outwards (knee chambers, then the leg straightens), the body leans away."""
    stroke = _strokes(u, int(rng.integers(1, 3)), rng.uniform(0.05, 0.25))
    sign = SIDE_SIGN[side]
    height = amp * rng.uniform(0.45, 0.85)
    chamber = 4.0 * stroke * (1.0 - stroke)
    pose[f'{side}_leg'] = _blend(pose[f'{side}_leg'], height, stroke)
    pose[f'{side}_knee'] = pose[f'{side}_knee'] - 0.8 * height * stroke * chamber
    pose[f'{side}_th_fs'] = pose[f'{side}_th_fs'] * (1.0 - 0.4 * stroke)
    pose[f'{side}_sn_fs'] = pose[f'{side}_sn_fs'] * (1.0 - 0.35 * stroke)
    pose['lean'] = pose['lean'] - sign * rng.uniform(0.06, 0.15) * stroke
    for arm_side in SIDE_SIGN:
        pose[f'{arm_side}_arm'] = pose[f'{arm_side}_arm'] + rng.uniform(0.1, 0.35) * stroke


def _clap(pose: Pose, u: np.ndarray, rng: np.random.Generator, body: BodyShape, amp: float) -> None:
    """Both hands come together in front of the chest, then clap repeatedly."""
    ramp = rng.uniform(0.12, 0.2)
    env = _window(u, ramp)
    opening = 0.5 + 0.5 * np.cos(2 * np.pi * rng.uniform(3.0, 7.0) * _inner(u, ramp) + rng.uniform(0, 0.5))
    opening = amp * opening
    height = rng.uniform(0.08, 0.14)
    for side in SIDE_SIGN:
        closed = -(body.shoulder * np.cos(pose['yaw']) + rng.uniform(-0.01, 0.01))
        target_out = _blend(closed, rng.uniform(-0.03, 0.02), opening)
        _set_arm_target(pose, side, body, env, target_out, height - 0.02 * opening, 0.7, 0.8)


def _touch_head(pose: Pose, u: np.ndarray, rng: np.random.Generator, body: BodyShape, amp: float) -> None:
    """Both hands go up to the sides of the head, stay there (rubbing a little) and come down."""
    stroke = _strokes(u, int(rng.integers(1, 3)), rng.uniform(0.35, 0.7))
    rub = 0.012 * np.sin(2 * np.pi * rng.uniform(2.0, 6.0) * u)
    for side in SIDE_SIGN:
        target_out = -(body.shoulder - body.head_radius * rng.uniform(0.9, 1.3))
        target_down = -body.neck * rng.uniform(0.7, 1.1) + rub
        _set_arm_target(pose, side, body, stroke, target_out, target_down, 0.9, 0.9)


def _squat(pose: Pose, u: np.ndarray, rng: np.random.Generator, body: BodyShape, amp: float) -> None:
    """Knees bend forward and apart, the hips go down and up again; arms reach forward for balance."""
    stroke = _strokes(u, int(rng.integers(1, 4)), rng.uniform(0.2, 0.5))
    depth = min(0.85, amp * rng.uniform(0.55, 0.8))
    spread = rng.uniform(0.1, 0.3)
    for side in SIDE_SIGN:
        pose[f'{side}_th_fs'] = pose[f'{side}_th_fs'] * (1.0 - depth * stroke)
        pose[f'{side}_leg'] = pose[f'{side}_leg'] + spread * stroke
        pose[f'{side}_knee'] = pose[f'{side}_knee'] - 0.9 * spread * stroke
        pose[f'{side}_arm'] = _blend(pose[f'{side}_arm'], 1.2, stroke)
        pose[f'{side}_elbow'] = _blend(pose[f'{side}_elbow'], 0.0, stroke)
        pose[f'{side}_ua_fs'] = _blend(pose[f'{side}_ua_fs'], 0.35, stroke)
        pose[f'{side}_fa_fs'] = _blend(pose[f'{side}_fa_fs'], 0.35, stroke)
    pose['torso_fs'] = pose['torso_fs'] * (1.0 - 0.12 * stroke)


def _jump(pose: Pose, u: np.ndarray, rng: np.random.Generator, body: BodyShape, amp: float) -> None:
    """Crouch, push off with the arms swinging up, fly, land softly; one to four times."""
    phase = (u * int(rng.integers(1, 5))) % 1.0
    crouch = np.where(phase < 0.3, np.sin(np.pi * phase / 0.3), 0.0)
    crouch = crouch + np.where(phase > 0.8, 0.6 * np.sin(np.pi * (phase - 0.8) / 0.2), 0.0)
    flight = np.where((phase >= 0.3) & (phase <= 0.8), np.sin(np.pi * (phase - 0.3) / 0.5), 0.0)
    pose['lift'] = pose['lift'] - amp * rng.uniform(0.08, 0.2) * flight
    pose['torso_fs'] = pose['torso_fs'] * (1.0 - 0.08 * crouch)
    arms_up = rng.uniform(1.0, 2.6)
    for side in SIDE_SIGN:
        pose[f'{side}_th_fs'] = pose[f'{side}_th_fs'] * (1.0 - 0.4 * crouch - 0.08 * flight)
        pose[f'{side}_arm'] = _blend(pose[f'{side}_arm'], arms_up, flight) - 0.1 * crouch


def _bow(pose: Pose, u: np.ndarray, rng: np.random.Generator, body: BodyShape, amp: float) -> None:
    """The upper body bends forward towards the camera (looks shorter) and straightens again."""
    stroke = _strokes(u, int(rng.integers(1, 3)), rng.uniform(0.15, 0.45))
    pitch = min(1.35, amp * rng.uniform(0.7, 1.2)) * stroke
    pose['torso_fs'] = pose['torso_fs'] * np.cos(pitch)
    pose['head_fs'] = pose['head_fs'] * np.cos(np.minimum(1.5, 1.2 * pitch))
    for side in SIDE_SIGN:
        pose[f'{side}_knee'] = pose[f'{side}_knee'] - 0.05 * stroke
        pose[f'{side}_elbow'] = _blend(pose[f'{side}_elbow'], 0.05, stroke)


def _walk_in_place(pose: Pose, u: np.ndarray, rng: np.random.Generator, body: BodyShape, amp: float) -> None:
    """Knees lift in turn while the arms swing opposite to the legs."""
    ramp = rng.uniform(0.1, 0.2)
    env = _window(u, ramp)
    cycle = np.sin(2 * np.pi * rng.uniform(2.0, 5.0) * _inner(u, ramp) + rng.uniform(0, 2 * np.pi))
    knee_lift = min(0.7, amp * rng.uniform(0.35, 0.6))
    for side, lift in (('l', np.maximum(cycle, 0.0) * env), ('r', np.maximum(-cycle, 0.0) * env)):
        pose[f'{side}_th_fs'] = pose[f'{side}_th_fs'] * (1.0 - knee_lift * lift)
        pose[f'{side}_knee'] = pose[f'{side}_knee'] - 0.3 * lift
        # the arm of the other side swings forward with this knee
        other = OTHER_SIDE[side]
        pose[f'{other}_ua_fs'] = pose[f'{other}_ua_fs'] * (1.0 - 0.25 * lift)
        pose[f'{other}_fa_fs'] = pose[f'{other}_fa_fs'] * (1.0 - 0.4 * lift)
    pose['lean'] = pose['lean'] + 0.03 * cycle * env


def _turn_around(pose: Pose, u: np.ndarray, rng: np.random.Generator, body: BodyShape, amp: float) -> None:
    """The body turns about its vertical axis (a full turn, or half a turn and back) with small steps."""
    direction = rng.choice([-1.0, 1.0])
    if rng.uniform() < 0.6:
        turned = 2 * np.pi * _smoothstep(u)
    else:
        turned = np.pi * _strokes(u, 1, rng.uniform(0.1, 0.4))
    pose['yaw'] = pose['yaw'] + direction * turned
    sideways = np.abs(np.sin(pose['yaw']))
    for side in SIDE_SIGN:
        pose[f'{side}_arm'] = pose[f'{side}_arm'] * (1.0 - 0.7 * sideways)
        pose[f'{side}_leg'] = pose[f'{side}_leg'] * (1.0 - 0.7 * sideways)
    speed = np.abs(np.gradient(turned))
    stepping = speed / max(speed.max(), 1e-6)
    cycle = np.sin(2 * np.pi * rng.uniform(2.0, 4.0) * u)
    pose['l_th_fs'] = pose['l_th_fs'] * (1.0 - 0.25 * stepping * np.maximum(cycle, 0.0))
    pose['r_th_fs'] = pose['r_th_fs'] * (1.0 - 0.25 * stepping * np.maximum(-cycle, 0.0))


def _sway(pose: Pose, u: np.ndarray, rng: np.random.Generator, body: BodyShape, amp: float) -> None:
    """The upper body leans from one side to the other and back, the arms hanging down."""
    ramp = rng.uniform(0.1, 0.25)
    env = _window(u, ramp)
    lean = amp * rng.uniform(0.12, 0.25) * np.sin(2 * np.pi * rng.uniform(1.0, 3.0) * _inner(u, ramp)) * env
    pose['lean'] = pose['lean'] + lean
    shift = -rng.uniform(0.1, 0.3) * body.torso * np.sin(lean)
    pose['root_x'] = pose['root_x'] + shift
    leg_length = body.thigh + body.shin
    for side, sign in SIDE_SIGN.items():
        pose[f'{side}_arm'] = pose[f'{side}_arm'] + sign * lean
        pose[f'{side}_leg'] = pose[f'{side}_leg'] - sign * shift / leg_length


def _stand_still(pose: Pose, u: np.ndarray, rng: np.random.Generator, body: BodyShape, amp: float) -> None:
    """Only the idle motion of the neutral pose."""


Motion = Callable[[Pose, np.ndarray, np.random.Generator, BodyShape, float], None]

# the classes, in label order: (class sentence, motion, the side of the moving limb for left / right classes)
_CLASS_SPECS: Tuple[Tuple[str, Motion, Optional[str]], ...] = (
    ('waving the right hand', partial(_wave_hand, side='r'), 'r'),
    ('waving the left hand', partial(_wave_hand, side='l'), 'l'),
    ('raising the right arm', partial(_raise_arm, side='r'), 'r'),
    ('raising the left arm', partial(_raise_arm, side='l'), 'l'),
    ('punching forward with the right hand', partial(_punch, side='r'), 'r'),
    ('punching forward with the left hand', partial(_punch, side='l'), 'l'),
    ('kicking with the right leg', partial(_kick, side='r'), 'r'),
    ('kicking with the left leg', partial(_kick, side='l'), 'l'),
    ('raising both arms', _raise_both_arms, None),
    ('clapping hands', _clap, None),
    ('touching the head with both hands', _touch_head, None),
    ('squatting down', _squat, None),
    ('jumping up', _jump, None),
    ('bowing', _bow, None),
    ('walking in place', _walk_in_place, None),
    ('turning around', _turn_around, None),
    ('swaying from side to side', _sway, None),
    ('standing still', _stand_still, None),
)

SYNTHETIC_CLASSES: Tuple[str, ...] = tuple(spec[0] for spec in _CLASS_SPECS)
"""The class sentences of the synthetic dataset; label ``i`` is ``SYNTHETIC_CLASSES[i]``."""


def _fidget(pose: Pose, rng: np.random.Generator, num_frames: int) -> None:
    """A small unrelated movement at a random moment: an arm, a head turn or a weight shift."""
    t = np.linspace(0.0, 1.0, num_frames)
    start, length = rng.uniform(0.0, 0.7), rng.uniform(0.2, 0.5)
    bump = _strokes(np.clip((t - start) / length, 0.0, 1.0), 1, rng.uniform(0.0, 0.5))
    kind = rng.integers(3)
    if kind == 0:
        # one hand comes up in front of the body (scratching, adjusting clothes)
        side = 'l' if rng.uniform() < 0.5 else 'r'
        pose[f'{side}_arm'] = pose[f'{side}_arm'] + rng.uniform(0.0, 0.4) * bump
        pose[f'{side}_elbow'] = pose[f'{side}_elbow'] - rng.uniform(0.4, 1.4) * bump
        pose[f'{side}_fa_fs'] = pose[f'{side}_fa_fs'] * (1.0 - rng.uniform(0.2, 0.5) * bump)
    elif kind == 1:
        pose['yaw'] = pose['yaw'] + rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 0.8) * bump
        pose['head_tilt'] = pose['head_tilt'] + rng.normal(0.0, 0.1) * bump
    else:
        pose['lean'] = pose['lean'] + rng.choice([-1.0, 1.0]) * rng.uniform(0.03, 0.08) * bump


def _actor_motion(label: int, num_frames: int, rng: np.random.Generator,
                  confuser_prob: float) -> Tuple[Pose, BodyShape]:
    """The pose trajectory of the person performing class ``label``."""
    _, motion, side = _CLASS_SPECS[label]
    body = BodyShape.sample(rng)
    pose = _neutral_pose(num_frames, rng)
    motion(pose, _progress(num_frames, rng), rng, body, rng.uniform(0.8, 1.15))
    if rng.uniform() < confuser_prob:
        if side is not None and rng.uniform() < 0.5:
            # a weak mirrored echo: the other limb half-heartedly does the same thing
            other = OTHER_SIDE[side]
            echo = _neutral_pose(num_frames, rng)
            motion.func(echo, _progress(num_frames, rng), rng, body, rng.uniform(0.8, 1.15), side=other)
            weight = rng.uniform(0.15, 0.35)
            for key in ARM_KEYS + LEG_KEYS:
                pose[f'{other}_{key}'] = _blend(pose[f'{other}_{key}'], echo[f'{other}_{key}'], weight)
        else:
            _fidget(pose, rng, num_frames)
    return pose, body


def _bystander_motion(num_frames: int, rng: np.random.Generator) -> Tuple[Pose, BodyShape]:
    """The pose trajectory of a second person: standing around, fidgeting or drifting slowly sideways."""
    body = BodyShape.sample(rng)
    pose = _neutral_pose(num_frames, rng)
    if rng.uniform() < 0.6:
        _fidget(pose, rng, num_frames)
    if rng.uniform() < 0.3:
        pose['root_x'] = pose['root_x'] + rng.uniform(-0.6, 0.6) * np.linspace(0.0, 1.0, num_frames)
    return pose, body


def _render(joints: np.ndarray, height: float, origin: Tuple[float, float], roll: float) -> np.ndarray:
    """Body-unit joints ``[T, V, 2]`` -> pixels: rotate by ``roll``, scale by ``height``, move to ``origin``."""
    cos, sin = np.cos(roll), np.sin(roll)
    rotated = joints @ np.array([[cos, sin], [-sin, cos]])
    return rotated * height + np.asarray(origin)


def _extent(joints: np.ndarray) -> Tuple[float, float, float, float]:
    return joints[..., 0].min(), joints[..., 0].max(), joints[..., 1].min(), joints[..., 1].max()


def _observe(pixels: np.ndarray, visible: np.ndarray, height: float, rng: np.random.Generator, quality: float,
             missing_prob: float) -> Tuple[np.ndarray, np.ndarray]:
    """Pose-estimator-like output: jitter that grows as the scores drop, scores in [0.3, 1], missing joints."""
    num_frames = len(pixels)
    score = quality - _JOINT_DIFFICULTY + rng.normal(0.0, 0.07, size=(num_frames, NUM_KEYPOINTS))
    hidden_score = rng.uniform(0.3, 0.5, size=score.shape)
    score = np.where(visible, score, hidden_score)
    score = np.clip(score, 0.3, 1.0)
    sigma = height * rng.uniform(0.002, 0.008) * (0.6 + 2.5 * (1.0 - score))
    keypoint = pixels + rng.normal(0.0, 1.0, size=pixels.shape) * sigma[..., None]
    missing = np.zeros(score.shape, dtype=bool)
    if rng.uniform() < missing_prob:
        missing |= rng.uniform(size=score.shape) < rng.uniform(0.005, 0.03)
    if rng.uniform() < missing_prob / 2:
        joint = rng.choice(_OCCLUDABLE)
        length = int(rng.integers(3, 13))
        start = int(rng.integers(0, max(num_frames - length, 1)))
        missing[start:start + length, joint] = True
    keypoint[missing] = 0.0
    score[missing] = 0.0
    return keypoint.astype(np.float32), score.astype(np.float32)


def _make_sample(label: int, frame_dir: str, rng: np.random.Generator, img_shape: Tuple[int, int], min_frames: int,
                 max_frames: int, second_person_prob: float, confuser_prob: float, missing_prob: float) -> dict:
    """One annotation: the actor doing class ``label``, and sometimes a bystander."""
    img_h, img_w = img_shape
    margin = 0.02 * min(img_h, img_w)
    num_frames = int(rng.integers(min_frames, max_frames + 1))
    pose, body = _actor_motion(label, num_frames, rng, confuser_prob)
    joints, visible = forward_kinematics(pose, body)
    roll = rng.normal(0.0, 0.03)
    joints = _render(joints, 1.0, (0.0, 0.0), roll)
    x0, x1, y0, y1 = _extent(joints)
    height = rng.uniform(0.32, 0.68) * img_h
    height = min(height, (img_h - 2 * margin) / (y1 - y0), (img_w - 2 * margin) / (x1 - x0))
    origin_x = rng.uniform(margin - x0 * height, img_w - margin - x1 * height)
    origin_y = rng.uniform(margin - y0 * height, img_h - margin - y1 * height)
    people = [(_render(joints, height, (origin_x, origin_y), 0.0), visible, height,
               rng.uniform(0.72, 0.97))]

    if rng.uniform() < second_person_prob:
        other_pose, other_body = _bystander_motion(num_frames, rng)
        other, other_visible = forward_kinematics(other_pose, other_body)
        other = _render(other, 1.0, (0.0, 0.0), rng.normal(0.0, 0.03))
        ox0, ox1, oy0, oy1 = _extent(other)
        other_height = min(height * rng.uniform(0.55, 1.05), (img_h - 2 * margin) / (oy1 - oy0))
        actor_left, actor_right = origin_x + x0 * height, origin_x + x1 * height
        # stand beside the actor, possibly partly out of the frame
        slack = 0.4 * (ox1 - ox0) * other_height
        gap = rng.uniform(0.0, 0.1) * img_w
        left_range = (-slack - ox0 * other_height, actor_left - gap - ox1 * other_height)
        right_range = (actor_right + gap - ox0 * other_height, img_w + slack - ox1 * other_height)
        ranges = [r for r in (left_range, right_range) if r[1] > r[0]]
        if ranges:
            low, high = ranges[int(rng.integers(len(ranges)))]
        else:
            low, high = -ox0 * other_height, img_w - ox1 * other_height
        other_x = rng.uniform(low, high)
        other_y = rng.uniform(margin - oy0 * other_height, max(img_h - margin - oy1 * other_height,
                                                              margin - oy0 * other_height))
        bystander = (_render(other, other_height, (other_x, other_y), 0.0), other_visible, other_height,
                     rng.uniform(0.5, 0.9))
        people.insert(int(rng.integers(2)), bystander)

    keypoints, scores = [], []
    for pixels, vis, person_height, quality in people:
        keypoint, score = _observe(pixels, vis, person_height, rng, quality, missing_prob)
        keypoints.append(keypoint)
        scores.append(score)
    return dict(
        frame_dir=frame_dir,
        label=int(label),
        total_frames=num_frames,
        img_shape=(int(img_h), int(img_w)),
        original_shape=(int(img_h), int(img_w)),
        keypoint=np.stack(keypoints),
        keypoint_score=np.stack(scores),
    )


def generate_synthetic_dataset(num_train_per_class: int = 40,
                               num_val_per_class: int = 10,
                               seed: int = 0,
                               min_frames: int = 30,
                               max_frames: int = 80,
                               img_shape: Tuple[int, int] = DEFAULT_IMG_SHAPE,
                               second_person_prob: float = 0.2,
                               confuser_prob: float = 0.3,
                               missing_prob: float = 0.35) -> dict:
    """Generate the synthetic skeleton action dataset in pyskl's annotation format.

    Every sample draws its randomness from ``(seed, split, label, index)``, so the output is the same for the
    same arguments, and a sample does not change when the number of samples of the other split changes.

    Args:
        num_train_per_class: clips per class in the ``train`` split.
        num_val_per_class: clips per class in the ``val`` split.
        seed: a non-negative integer.
        min_frames, max_frames: the clip length range (inclusive), drawn uniformly per clip.
        img_shape: ``(h, w)`` of the frame the figures are placed in.
        second_person_prob: probability that a bystander appears (``M = 2``, the actor is person 0 or 1).
        confuser_prob: probability of a small unrelated movement, or, for left / right classes, a weak mirrored
            echo of the movement by the other limb.
        missing_prob: probability that a person has scattered missing joints (half as often also a joint missing
            for 3 to 12 frames in a row); a missing joint is ``(0, 0)`` with score 0.

    Returns:
        dict: ``split`` (``{'train': [frame_dir, ...], 'val': [...]}``) and ``annotations``, a list of dicts with
        ``frame_dir`` (str), ``label`` (int), ``total_frames`` (int), ``img_shape`` and ``original_shape``
        (``(h, w)``), ``keypoint`` float32 ``[M, T, 17, 2]`` in pixels (COCO-17 order) and ``keypoint_score``
        float32 ``[M, T, 17]``.
    """
    if num_train_per_class < 0 or num_val_per_class < 0 or num_train_per_class + num_val_per_class == 0:
        raise ValueError(f'synthetic dataset: num_train_per_class={num_train_per_class} and num_val_per_class='
                         f'{num_val_per_class} must be non-negative and not both zero')
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f'synthetic dataset: seed must be a non-negative integer, got {seed!r}')
    if not 2 <= min_frames <= max_frames:
        raise ValueError(f'synthetic dataset: need 2 <= min_frames <= max_frames, got {min_frames}, {max_frames}')
    for name, value in (('second_person_prob', second_person_prob), ('confuser_prob', confuser_prob),
                        ('missing_prob', missing_prob)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f'synthetic dataset: {name} must lie in [0, 1], got {value}')
    img_shape = (int(img_shape[0]), int(img_shape[1]))

    split: Dict[str, List[str]] = {}
    annotations = []
    for split_id, (split_name, per_class) in enumerate((('train', num_train_per_class), ('val', num_val_per_class))):
        names = []
        for index in range(per_class):
            for label in range(len(SYNTHETIC_CLASSES)):
                frame_dir = f'{split_name}_A{label:03d}_{index:04d}'
                rng = np.random.default_rng([int(seed), split_id, label, index])
                annotations.append(
                    _make_sample(label, frame_dir, rng, img_shape, min_frames, max_frames, second_person_prob,
                                 confuser_prob, missing_prob))
                names.append(frame_dir)
        split[split_name] = names
    logger.info('generated %d synthetic clips (%d classes, seed %d)', len(annotations), len(SYNTHETIC_CLASSES), seed)
    return dict(split=split, annotations=annotations)


def class_list_csv(names: Sequence[str] = SYNTHETIC_CLASSES) -> str:
    """The class list file text: the header ``id,name`` and one ``id,name`` row per class."""
    for name in names:
        if ',' in name or '"' in name or '\n' in name:
            raise ValueError(f'class name {name!r} must not contain commas, quotes or line breaks')
    return ''.join(['id,name\n'] + [f'{i},{name}\n' for i, name in enumerate(names)])


def write_synthetic_dataset(out_path: Union[str, os.PathLike],
                            class_list_path: Optional[Union[str, os.PathLike]] = None,
                            **kwargs) -> dict:
    """Generate the synthetic dataset and write it as a pyskl annotation pickle.

    Args:
        out_path: the pickle to write (parent folders are created); written atomically.
        class_list_path: if given, also write the class list CSV there (``lists/synthetic.csv`` holds it).
        **kwargs: passed to `generate_synthetic_dataset`.

    Returns:
        dict: the dataset that was written.
    """
    data = generate_synthetic_dataset(**kwargs)
    atomic_write_bytes(out_path, pickle.dumps(data, protocol=4))
    logger.info('wrote %s', out_path)
    if class_list_path is not None:
        atomic_write_bytes(class_list_path, class_list_csv().encode('utf-8'))
        logger.info('wrote %s', class_list_path)
    return data
