"""A scripted guide that opens the door through the same controls a person has.

It plans a :class:`~teleop.command.Command` from the observation alone and hands it to the
:class:`~teleop.mapper.CommandMapper`, so ``act(obs) == mapper(command(obs), obs)``: whatever it
does, a person with the same device could do. Phases:

1. ``REACH``: palm to a point above the lever, fingers pre-curled;
2. ``DESCEND``: down onto the lever, the bar under the proximal finger links;
3. ``GRASP``: close the hand (the fingers hook around the bar);
4. ``TWIST``: roll the hand with the lever (the palm follows the lever's arc about the latch
   axis) until the latch is past ~1.2 rad, where it no longer holds the door;
5. ``PULL``: pull the handle along the door's arc about the hinge;
6. ``RELEASE``: open the hand and back off; the door swings on to open.

With ``quantized=True`` every Command is one a keyboard can give: each palm axis is -v, 0 or
+v, twist is -w, 0 or +w, and grasp ramps up while "held" and down while "released". With
``skill < 1`` it adds correlated command noise and a per-episode error in where it grasps.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from episode.guide import GuideError
from guides.mapping import mapper_for
from sim.door import OBS_HANDLE, OBS_HINGE, OBS_LATCH, OBS_PALM
from teleop.command import Command
from teleop.command_space import encode
from teleop.mapper import CommandMapper

if TYPE_CHECKING:
    import gymnasium

# Door geometry (Gymnasium-Robotics adroit_door.xml), in the door frame at hinge angle 0.
_HANDLE_IN_LATCH = np.array([0.15, -0.15, 0.0])
"""The handle site (the lever's grip point) relative to the latch axis, latch angle 0."""
_LATCH_FROM_HINGE = np.array([-0.46, 0.0, -0.025])
"""The latch axis point relative to the door hinge axis point."""
_Y = np.array([0.0, 1.0, 0.0])
_Z = np.array([0.0, 0.0, 1.0])

# The plan, tuned with the default mapper on seeds 1000+ (the benchmark uses seeds 0..99).
GRASP_OFFSET = np.array([0.0, -0.04, -0.02])
"""Palm (S_grasp) minus handle when grasping: the bar lies under the proximal finger links."""
HOVER_HEIGHT = 0.10
"""How far above the grasp point the palm approaches, so pre-curled fingertips clear the bar."""
PRE_GRASP = 0.1
"""Grasp level while reaching: fingers slightly curled, so their tips clear the bar."""
GAIN = 15.0
"""Position gain (1/s) of the palm's approach: velocity = gain x error, capped at the speed."""
GRASP_STEPS = 6
"""Steps the hand takes to close around the bar before it twists."""
KEY_GRASP_READY = 0.6
"""With a grasp key (a ramp), the grasp level at which the hand starts to twist."""
TWIST_RATE = 6.0
"""Roll rate (rad/s) while turning the latch."""
UNLATCHED = 1.25
"""Latch angle (rad) past which the door is free to swing."""
PULL_SPEED = 2.0
"""Handle speed (m/s) along the door's arc while pulling."""
WRIST_FOLLOW = 1.0
"""Wrist rate per hinge rate while pulling (rolled 90 deg, the wrist flexion yaws the hand)."""
RELEASE_COAST = 1.45
"""Let go once the hinge angle plus the door's estimated coast (rad) reaches this."""
COAST_DECELERATION = 18.0
"""Deceleration (rad/s^2) of the freely swinging door (hinge friction and damping), measured."""
RELEASE_MIN_HINGE = 0.6
"""Never let go before this hinge angle (rad): the door must be well clear of the frame."""
RELEASE_MAX_HINGE = 1.4
"""Let go at this hinge angle (rad) whatever the door's speed: it is open."""
RELEASE_STALL_RATE = 0.5
"""Let go when the door turns slower than this (rad/s): the arm is at its reach."""
RELEASE_FOLLOW = 1.0
"""Palm speed (m/s) along the door's arc while the hand opens, so it does not brake the door."""
RELEASE_STEPS = 10
"""Steps the palm keeps following the door after letting go; then it only lifts away."""
RELEASE_LIFT = 0.3
"""Upward palm speed (m/s) after letting go (it also nudges a door that stalled short of open)."""
LIFT_STEPS = 60
"""Steps the palm lifts after letting go; then it rests."""


class Phase(enum.Enum):
    """Where the scripted guide is in opening the door."""

    REACH = "reach"
    DESCEND = "descend"
    GRASP = "grasp"
    TWIST = "twist"
    PULL = "pull"
    RELEASE = "release"


@dataclass(frozen=True)
class ScriptedConfig:
    """How well, and through which controls, the scripted guide acts."""

    skill: float = 1.0
    """1 = expert; lower adds command noise and a grasp-point error (0.5 ~ a medium guide)."""
    seed: int = 0
    """Seed of the noise and grasp errors (episode k of a guide uses seed + k)."""
    quantized: bool = False
    """Emit only keyboard-like Commands: palm axes in {-v, 0, +v}, twist in {-w, 0, +w},
    grasp ramped by a held or released key."""
    palm_speed: float = 2.0
    """Top palm speed (m/s) of the continuous plan."""
    key_palm_speed: float = 0.75
    """Quantized palm speed v (m/s) per axis, as a held key gives."""
    key_twist_speed: float = 6.0
    """Quantized twist rate w (rad/s), as a held key gives."""
    key_wrist_speed: float = 1.5
    """Quantized wrist rate (rad/s), as a held key gives."""
    key_grasp_rate: float = 4.0
    """Quantized grasp ramp (level per second) while the grasp key is held or released."""
    dt: float = 0.01
    """Control period (s): the env's ``dt``; sets the quantized grasp ramp step."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.skill <= 1.0:
            raise ValueError(f"ScriptedConfig.skill must be in [0, 1], got {self.skill!r}")
        for name in (
            "palm_speed",
            "key_palm_speed",
            "key_twist_speed",
            "key_wrist_speed",
            "key_grasp_rate",
            "dt",
        ):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"ScriptedConfig.{name} must be positive, got {value!r}")


@dataclass(frozen=True)
class DoorView:
    """What the guide reads from one observation."""

    palm: np.ndarray
    """Palm (grasp site) position (m)."""
    handle: np.ndarray
    """Handle (lever grip point) position (m)."""
    latch: float
    """Latch angle (rad); past ~1.2 the door is free."""
    hinge: float
    """Door angle (rad); open at 1.35."""

    @classmethod
    def from_obs(cls, obs: np.ndarray) -> DoorView:
        """Read the door's state from a 39-D observation."""
        o = np.asarray(obs, dtype=np.float64).reshape(-1)
        return cls(
            o[OBS_PALM].copy(), o[OBS_HANDLE].copy(), float(o[OBS_LATCH]), float(o[OBS_HINGE])
        )

    def latch_axis_point(self) -> np.ndarray:
        """A point on the latch's rotation axis (m)."""
        return self.handle - _rot_z(self.hinge) @ _rot_y(self.latch) @ _HANDLE_IN_LATCH

    def hinge_point(self) -> np.ndarray:
        """A point on the door's hinge axis (m)."""
        lever = _rot_y(self.latch) @ _HANDLE_IN_LATCH
        return self.handle - _rot_z(self.hinge) @ (_LATCH_FROM_HINGE + lever)

    def lever_frame(self) -> np.ndarray:
        """Rotation of the lever (door yaw, then latch roll) from the closed, level pose."""
        return _rot_z(self.hinge) @ _rot_y(self.latch)


@dataclass(frozen=True)
class Plan:
    """One step of the continuous plan, before noise, speed caps and quantization."""

    velocity: np.ndarray
    """Palm velocity (m/s, world frame)."""
    twist: float = 0.0
    """Roll rate (rad/s)."""
    wrist: float = 0.0
    """Wrist flexion rate (rad/s)."""
    grasp: float = 0.0
    """Grasp level in [0, 1]."""


class ScriptedGuide:
    """Opens the door through :class:`CommandMapper`, from the observation alone.

    Args:
        mapper: The mapper that turns this guide's Commands into actions (the human's mapper).
        config: Skill, seed and control quantization.

    """

    kind = "scripted"

    def __init__(self, mapper: CommandMapper, config: ScriptedConfig | None = None) -> None:
        self.mapper = mapper
        self.config = config or ScriptedConfig()
        self.phase = Phase.REACH
        self._episode = 0
        self._rng = np.random.default_rng(self.config.seed)
        self._grasp_error = np.zeros(3)
        self._noise = np.zeros(5)
        self._phase_steps = 0
        self._grip_in_lever = GRASP_OFFSET.copy()
        self._grasp_level = 0.0
        self._landing = np.zeros(3)
        self._prev_hinge = 0.0
        self._hinge_rate = 0.0
        self._key_debt = np.zeros(5)
        self.last_command: Command | None = None
        """The Command of the last :meth:`act` (None before the first)."""

    # -- Guide protocol --------------------------------------------------------------------------

    def reset(self, obs: np.ndarray) -> None:
        """Start an episode: reset the mapper, the phase and this episode's errors."""
        self.mapper.reset(obs)
        self._rng = np.random.default_rng(self.config.seed + self._episode)
        self._episode += 1
        sloppiness = 1.0 - self.config.skill
        self._grasp_error = self._rng.normal(0.0, 0.025 * sloppiness, 3)
        self._noise = np.zeros(5)
        self.phase = Phase.REACH
        self._phase_steps = 0
        self._grip_in_lever = GRASP_OFFSET + self._grasp_error
        self._grasp_level = 0.0
        self._prev_hinge = DoorView.from_obs(obs).hinge
        self._hinge_rate = 0.0
        self._key_debt = np.zeros(5)

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Return the (28,) action for ``obs``: the mapper applied to :meth:`command`."""
        self.last_command = self.command(obs)
        return self.mapper(self.last_command, obs)

    @property
    def command_vector(self) -> np.ndarray | None:
        """The last Command as a 6-D vector (what the runner records with the step)."""
        return None if self.last_command is None else encode(self.last_command)

    # -- the plan --------------------------------------------------------------------------------

    def command(self, obs: np.ndarray) -> Command:
        """Return the Command this guide wants for ``obs`` (advances its phase)."""
        view = DoorView.from_obs(obs)
        self._advance(view)
        plan = self._add_noise(self._plan(view))
        if self.config.quantized:
            return self._quantize(plan)
        velocity = plan.velocity
        speed = float(np.linalg.norm(velocity))
        if speed > self.config.palm_speed:
            velocity = velocity * (self.config.palm_speed / speed)
        return Command(
            palm_velocity=_tuple3(velocity), twist=plan.twist, wrist=plan.wrist, grasp=plan.grasp
        )

    def _advance(self, v: DoorView) -> None:
        """Move to the next phase when this one's goal is met."""
        self._phase_steps += 1
        self._hinge_rate = (v.hinge - self._prev_hinge) / self.config.dt
        self._prev_hinge = v.hinge
        grasp_point = v.handle + GRASP_OFFSET + self._grasp_error
        nxt: Phase | None = None
        if self.phase is Phase.REACH and np.linalg.norm((grasp_point - v.palm)[:2]) < 0.015:
            nxt = Phase.DESCEND
            self._landing = grasp_point
        elif self.phase is Phase.DESCEND and (
            np.linalg.norm(self._landing - v.palm) < 0.012 or v.latch > 0.1
        ):
            nxt = Phase.GRASP
        elif (
            self.phase is Phase.GRASP
            and self._phase_steps >= GRASP_STEPS
            and (not self.config.quantized or self._grasp_level >= KEY_GRASP_READY)
        ):
            nxt = Phase.TWIST
            self._grip_in_lever = v.lever_frame().T @ (v.palm - v.handle)
        elif self.phase is Phase.TWIST and v.latch > UNLATCHED:
            nxt = Phase.PULL
        elif self.phase is Phase.PULL and self._door_will_open(v):
            nxt = Phase.RELEASE
        if nxt is not None:
            self.phase = nxt
            self._phase_steps = 0

    def _door_will_open(self, v: DoorView) -> bool:
        return door_will_open(v.hinge, self._hinge_rate)

    def _plan(self, v: DoorView) -> Plan:
        """The continuous plan for this step's phase."""
        grasp_point = v.handle + GRASP_OFFSET + self._grasp_error
        on_lever = v.handle + v.lever_frame() @ self._grip_in_lever
        if self.phase is Phase.REACH:
            return Plan(GAIN * (grasp_point + HOVER_HEIGHT * _Z - v.palm), grasp=PRE_GRASP)
        if self.phase is Phase.DESCEND:
            return Plan(GAIN * (self._landing - v.palm), grasp=PRE_GRASP)
        if self.phase is Phase.GRASP:
            return Plan(GAIN * (self._landing - v.palm), grasp=1.0)
        if self.phase is Phase.TWIST:
            arc = TWIST_RATE * np.cross(_Y, v.palm - v.latch_axis_point())
            return Plan(arc + GAIN * (on_lever - v.palm), twist=TWIST_RATE, grasp=1.0)
        tangent = np.cross(_Z, v.handle - v.hinge_point())
        tangent /= max(float(np.linalg.norm(tangent)), 1e-9)
        if self.phase is Phase.PULL:
            wrist = WRIST_FOLLOW * self._hinge_rate
            return Plan(PULL_SPEED * tangent + GAIN * (on_lever - v.palm), wrist=wrist, grasp=1.0)
        follow = RELEASE_FOLLOW if self._phase_steps <= RELEASE_STEPS else 0.0
        lift = RELEASE_LIFT if self._phase_steps <= LIFT_STEPS else 0.0
        return Plan(follow * tangent + lift * _Z, grasp=0.0)

    # -- skill and keyboard ----------------------------------------------------------------------

    def _add_noise(self, plan: Plan) -> Plan:
        """Add correlated (Ornstein-Uhlenbeck) noise to the rates, scaled by 1 - skill."""
        sloppiness = 1.0 - self.config.skill
        if sloppiness <= 0.0:
            return plan
        self._noise = 0.9 * self._noise + self._rng.normal(0.0, 0.3, 5) * np.sqrt(1 - 0.9**2)
        return Plan(
            plan.velocity + sloppiness * 0.5 * self._noise[:3],
            twist=plan.twist + sloppiness * 3.0 * float(self._noise[3]),
            wrist=plan.wrist + sloppiness * 1.0 * float(self._noise[4]),
            grasp=plan.grasp,
        )

    def _quantize(self, plan: Plan) -> Command:
        """The keyboard Command closest over time to the plan (sigma-delta "key tapping").

        Each palm axis, the twist and the wrist is a key pair that is either held one way or
        released this step; an accumulator of the planned minus the emitted motion decides,
        so on average the keys give the plan (capped at the key speed). The grasp key is held
        while the plan wants more grasp than the current level and released otherwise.
        """
        cfg = self.config
        rates = np.array([*plan.velocity, plan.twist, plan.wrist])
        speeds = np.array([cfg.key_palm_speed] * 3 + [cfg.key_twist_speed, cfg.key_wrist_speed])
        self._key_debt += np.clip(rates, -speeds, speeds) * cfg.dt
        half_step = 0.5 * speeds * cfg.dt
        keys = np.where(np.abs(self._key_debt) >= half_step, np.sign(self._key_debt), 0.0)
        self._key_debt -= keys * speeds * cfg.dt
        emitted = keys * speeds
        step = cfg.key_grasp_rate * cfg.dt
        held = plan.grasp > self._grasp_level
        self._grasp_level = float(np.clip(self._grasp_level + (step if held else -step), 0, 1))
        return Command(
            palm_velocity=_tuple3(emitted[:3]),
            twist=float(emitted[3]),
            wrist=float(emitted[4]),
            grasp=self._grasp_level,
        )


def door_will_open(hinge: float, hinge_rate: float, coast_to: float = RELEASE_COAST) -> bool:
    """True when the door, let go now, would coast past ``coast_to`` (or the arm is at its limit).

    Args:
        hinge: Door angle (rad).
        hinge_rate: Door angular speed (rad/s), from consecutive observations.
        coast_to: The angle (rad) the door should coast to once let go.

    """
    if hinge >= RELEASE_MAX_HINGE:
        return True
    if hinge < RELEASE_MIN_HINGE:
        return False
    coast = hinge_rate**2 / (2.0 * COAST_DECELERATION)
    return hinge + coast >= coast_to or hinge_rate < RELEASE_STALL_RATE


def _rot_y(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rot_z(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _tuple3(v: np.ndarray) -> tuple[float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]))


# -- the registry's builder --------------------------------------------------------------------


def build(argument: str | None, env: gymnasium.Env, seed: int) -> ScriptedGuide:
    """Registry builder for ``scripted`` and ``scripted:SKILL`` (SKILL in [0, 1])."""
    skill = 1.0 if argument is None else _parse_skill(argument)
    dt = float(getattr(env.unwrapped, "dt"))  # noqa: B009  (a MuJoCo env's control period)
    config = ScriptedConfig(skill=skill, seed=seed, dt=dt)
    return ScriptedGuide(mapper_for(env), config)


def _parse_skill(argument: str) -> float:
    from guides.registry import valid_forms

    try:
        skill = float(argument)
    except ValueError:
        skill = float("nan")
    if not 0.0 <= skill <= 1.0:  # also rejects NaN
        raise GuideError(
            f"scripted guide skill must be a number in [0, 1] (scripted:0.5), got {argument!r}; "
            f"valid forms: {valid_forms()}"
        )
    return skill
