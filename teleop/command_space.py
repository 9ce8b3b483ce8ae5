"""The teleop ``Command`` as a 6-D action vector, and the door driven in that space.

A person, the scripted guide and a Command-space explorer all steer the hand with the same
six numbers: palm velocity (3), twist, wrist and grasp, each scaled into [-1, 1]
(:class:`CommandScale`). :class:`CommandController` turns such a vector into the 28-D door
action through the one :class:`~teleop.mapper.CommandMapper`; :class:`CommandActions` is the
same thing as a Gymnasium ``ActionWrapper``, so any RL library can train on the door in
Command space. :class:`CommandLabeler` goes the other way: the Command that best explains a
28-D step, so the data of a 28-D guide (a user's callable, a saved joint-space policy) can
still feed a Command-space explorer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from sim.door import ACT_DIM, OBS_PALM
from teleop.command import Command
from teleop.mapper import ROLL_JOINT, WRIST_FLEX_JOINT, CommandMapper, check_speed
from teleop.synergies import FIRST_FINGER_INDEX, finger_targets

COMMAND_DIM = 6
"""Size of a Command vector: palm velocity xyz, twist, wrist, grasp."""


@dataclass(frozen=True)
class CommandScale:
    """What -1 and +1 of each Command-vector entry mean in physical units."""

    palm_speed: float = 2.0
    """Palm velocity (m/s) per axis at +-1 (the scripted guide pulls at 2 m/s)."""
    twist_rate: float = 6.0
    """Roll rate (rad/s) at +-1 (the scripted guide turns the latch at 6 rad/s)."""
    wrist_rate: float = 3.0
    """Wrist flexion rate (rad/s) at +-1 (the mapper's cap)."""

    def __post_init__(self) -> None:
        for name in ("palm_speed", "twist_rate", "wrist_rate"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"CommandScale.{name} must be a positive number, got {value!r}")

    def faster(self, speed: float) -> CommandScale:
        """This scale with every rate ``speed`` times larger (grasp, a level, unchanged)."""
        check_speed(speed)
        return replace(
            self,
            palm_speed=self.palm_speed * speed,
            twist_rate=self.twist_rate * speed,
            wrist_rate=self.wrist_rate * speed,
        )

    def units(self) -> np.ndarray:
        """What +1 of each of the six entries means (grasp's entry is not a rate: 1)."""
        p = self.palm_speed
        return np.array([p, p, p, self.twist_rate, self.wrist_rate, 1.0])


PERSON = CommandScale()
"""The scale of a person's controls: every recorded Command vector (``infos/command``) is in it."""


def rescale(vector: np.ndarray, source: CommandScale, target: CommandScale) -> np.ndarray:
    """A (..., 6) Command vector in ``source``'s units, re-expressed in ``target``'s (not clipped).

    A faster explorer's vectors go into the recordings in a person's units (entries may then
    exceed 1), and recorded vectors come back in the explorer's units for learning.
    """
    if source == target:
        return np.asarray(vector, dtype=np.float32)
    factor = (source.units() / target.units()).astype(np.float32)
    return np.asarray(vector, dtype=np.float32) * factor


def from_person(vector: np.ndarray, scale: CommandScale) -> np.ndarray:
    """A recorded vector (a person's units) in ``scale``'s units, clipped to [-1, 1]."""
    return np.clip(rescale(vector, PERSON, scale), -1.0, 1.0)


def encode(command: Command, scale: CommandScale = CommandScale()) -> np.ndarray:
    """The float32 (6,) vector in [-1, 1] for ``command`` (rates beyond the scale are clipped)."""
    v = np.array(
        [
            *(np.asarray(command.palm_velocity) / scale.palm_speed),
            command.twist / scale.twist_rate,
            command.wrist / scale.wrist_rate,
            2.0 * command.grasp - 1.0,
        ],
        dtype=np.float32,
    )
    return np.clip(v, -1.0, 1.0)


def decode(vector: np.ndarray, scale: CommandScale = CommandScale()) -> Command:
    """The :class:`Command` a (6,) vector stands for (non-finite entries become 0, then clipped).

    Raises:
        ValueError: ``vector`` does not have 6 entries.

    """
    v = np.asarray(vector, dtype=np.float64).reshape(-1)
    if v.shape != (COMMAND_DIM,):
        raise ValueError(f"a Command vector has {COMMAND_DIM} entries, got shape {v.shape}")
    v = np.clip(np.nan_to_num(v, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0)
    palm = v[:3] * scale.palm_speed
    return Command(
        palm_velocity=(float(palm[0]), float(palm[1]), float(palm[2])),
        twist=float(v[3] * scale.twist_rate),
        wrist=float(v[4] * scale.wrist_rate),
        grasp=float(0.5 * (v[5] + 1.0)),
    )


class CommandController:
    """Command vectors in, 28-D door actions out, through one mapper (which keeps its targets).

    Args:
        mapper: The mapper (its own; the controller resets and steps it).
        scale: Units of the vector entries.

    """

    def __init__(self, mapper: CommandMapper, scale: CommandScale | None = None) -> None:
        self.mapper = mapper
        self.scale = scale or CommandScale()

    @classmethod
    def for_env(cls, env: object, speed: float = 1.0) -> CommandController:
        """A controller for ``env``'s door, ``speed`` times as fast as a person's controls.

        ``speed`` scales what +-1 means (:meth:`CommandScale.faster`) and the mapper's rate
        caps and arm lead with it (:meth:`~teleop.mapper.MapperConfig.faster`); 1 gives exactly
        the controls a person and the scripted guide have.
        """
        return cls(CommandMapper.for_env(env, speed), PERSON.faster(speed))

    def to_person(self, vector: np.ndarray) -> np.ndarray:
        """``vector`` (this controller's units) in a person's units, as recordings hold it."""
        return rescale(vector, self.scale, PERSON)

    def from_person(self, vector: np.ndarray) -> np.ndarray:
        """A recorded vector (a person's units) in this controller's units, clipped to [-1, 1]."""
        return from_person(vector, self.scale)

    def reset(self, obs: np.ndarray) -> None:
        """Hold the pose in ``obs`` (episode start, or taking over from a 28-D actor)."""
        self.mapper.reset(obs)

    def take_over(self, obs: np.ndarray, previous: object | None) -> None:
        """Continue from ``previous``'s mapper when it has one (a Command guide), else ``obs``."""
        other = getattr(previous, "mapper", None)
        if isinstance(other, CommandMapper):
            self.mapper.carry_over(other, obs)
        else:
            self.mapper.reset(obs)

    def __call__(self, vector: np.ndarray, obs: np.ndarray) -> np.ndarray:
        """The (28,) action that carries out the Command ``vector`` from ``obs``."""
        return self.mapper(decode(vector, self.scale), obs)


class CommandActions(gym.ActionWrapper, gym.utils.RecordConstructorArgs):
    """The door with a 6-D Command action space (``Box(-1, 1, (6,))``) through the mapper.

    The wrapped env still gets (and reports in ``info["action_28d"]``) the 28-D action, so its
    physics and reward are the standard door's.
    """

    def __init__(self, env: gym.Env, scale: CommandScale | None = None) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, scale=scale)
        gym.ActionWrapper.__init__(self, env)
        self.controller = CommandController(CommandMapper.for_env(env), scale)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (COMMAND_DIM,), np.float32)
        self._obs: np.ndarray | None = None

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Reset the door and the mapper's targets to the new pose."""
        obs, info = self.env.reset(**kwargs)
        self._obs = np.asarray(obs)
        self.controller.reset(self._obs)
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Map the Command vector to the 28-D action and step the door with it."""
        joint_action = self.action(action)
        obs, reward, terminated, truncated, info = self.env.step(joint_action)
        self._obs = np.asarray(obs)
        info["action_28d"] = joint_action
        return obs, reward, terminated, truncated, info

    def action(self, action: Any) -> np.ndarray:
        """The 28-D action for a Command vector from the current observation."""
        if self._obs is None:
            raise RuntimeError("CommandActions.step() called before reset()")
        return self.controller(np.asarray(action), self._obs)


class CommandLabeler:
    """The Command vector that best explains one 28-D step ``(obs, action, next_obs)``.

    * palm velocity: the palm's displacement over the step, divided by ``dt``;
    * twist: the roll joint's change over the step;
    * wrist: the change of the wrist's servo target over the step. The wrist actuator is a
      position servo, so an action's wrist entry is the target it sets (less the gravity offset
      the mapper adds); the previous step's action holds the previous target, and before an
      episode's first step the mapper's target is the measured pose. The joint's own motion
      lags its target (measured on the scripted guide's episodes: a mean error of 0.41 per
      step against the Commands it issued, against 0.012 from the targets);
    * grasp: the level whose synergy finger targets are nearest (least squares) to the
      finger targets the action commands (the finger servos' ctrl is their target).

    Args:
        model: The door's ``MjModel`` (for the actuators' control ranges and gravity).
        dt: The env's control period (s).
        scale: Units of the vector entries.

    """

    GRID = 201
    """Grasp levels tried between 0 and 1."""

    def __init__(self, model: mujoco.MjModel, dt: float, scale: CommandScale | None = None) -> None:
        self.dt, self.scale = float(dt), scale or CommandScale()
        lo, hi = model.actuator_ctrlrange[:ACT_DIM].T
        self._ctrl_lo, self._ctrl_span = lo.copy(), hi - lo
        self._levels = np.linspace(0.0, 1.0, self.GRID)
        self._targets = np.stack([finger_targets(g) for g in self._levels])
        self._wrist_gain = float(model.actuator_gainprm[WRIST_FLEX_JOINT, 0])
        self._mapper = CommandMapper(model)
        """Only for the hand's pose and gravity at an observation (its targets are unused)."""

    @classmethod
    def for_env(cls, env: gym.Env, scale: CommandScale | None = None) -> CommandLabeler:
        """A labeller for a door env."""
        unwrapped = env.unwrapped
        return cls(unwrapped.model, float(unwrapped.dt), scale)  # type: ignore[attr-defined]

    def grasp_level(self, action: np.ndarray) -> float:
        """The grasp level whose finger targets best match the action's finger part."""
        a = np.asarray(action, dtype=np.float64)[FIRST_FINGER_INDEX:ACT_DIM]
        fingers = slice(FIRST_FINGER_INDEX, ACT_DIM)
        ctrl = self._ctrl_lo[fingers] + 0.5 * (a + 1.0) * self._ctrl_span[fingers]
        err = np.square(self._targets - ctrl).sum(axis=1)
        return float(self._levels[int(np.argmin(err))])

    def wrist_ctrl(self, action: np.ndarray) -> float:
        """The wrist servo's ctrl (its target plus the gravity offset) that ``action`` sets."""
        j = WRIST_FLEX_JOINT
        a = float(np.asarray(action, dtype=np.float64)[j])
        return float(self._ctrl_lo[j] + 0.5 * (a + 1.0) * self._ctrl_span[j])

    def wrist_rate(
        self, obs: np.ndarray, action: np.ndarray, prev_action: np.ndarray | None
    ) -> float:
        """The wrist Command (rad/s, + flexes the fingertips up) that moved the servo's target."""
        if prev_action is not None:  # both ctrls carry the same gravity offset, to < 1e-3 rad
            before = self.wrist_ctrl(prev_action)
        else:  # the mapper's target at an episode's start: the pose, plus the offset ctrl adds
            gravity = self._mapper.gravity(obs)[WRIST_FLEX_JOINT]
            before = float(obs[WRIST_FLEX_JOINT - 1]) + gravity / self._wrist_gain
        return -(self.wrist_ctrl(action) - before) / self.dt

    def __call__(
        self,
        obs: np.ndarray,
        action: np.ndarray,
        next_obs: np.ndarray,
        prev_action: np.ndarray | None = None,
    ) -> np.ndarray:
        """The float32 (6,) Command vector for the step.

        Args:
            obs: The observation the action was taken in.
            action: The 28-D action.
            next_obs: The observation after the step.
            prev_action: The episode's previous 28-D action (None: the episode's first step).

        """
        o, o2 = np.asarray(obs, np.float64), np.asarray(next_obs, np.float64)
        palm_velocity = (o2[OBS_PALM] - o[OBS_PALM]) / self.dt
        # obs[0:27] is qpos[1:28]: joint j of the hand is obs[j - 1].
        twist = (o2[ROLL_JOINT - 1] - o[ROLL_JOINT - 1]) / self.dt
        command = Command(
            palm_velocity=(
                float(palm_velocity[0]),
                float(palm_velocity[1]),
                float(palm_velocity[2]),
            ),
            twist=float(twist),
            wrist=self.wrist_rate(o, action, prev_action),
            grasp=self.grasp_level(action),
        )
        return encode(command, self.scale)


__all__ = [
    "COMMAND_DIM",
    "CommandActions",
    "CommandController",
    "CommandLabeler",
    "CommandScale",
    "decode",
    "encode",
]
