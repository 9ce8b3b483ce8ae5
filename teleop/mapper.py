"""The mapper from a person's :class:`~teleop.command.Command` to the 28-D hand action.

It keeps absolute joint targets between steps and integrates the commanded rates into them:

* palm velocity (m/s, world frame) and twist (rad/s) drive the four arm joints (slide ``ARTz``
  and rotations ``ARRx``, ``ARRy``, ``ARRz``) through damped-least-squares Jacobian IK on the
  grasp site ``S_grasp`` (the palm position in the observation). ``ARRz`` rolls the forearm
  about its long axis, which is parallel to the latch axis (world +y), so ``twist`` is the
  roll rate and the other three joints move the palm as commanded while the hand rolls;
* ``wrist`` (rad/s) drives wrist flexion ``WRJ0``; + tilts the fingertips up;
* ``grasp`` in [0, 1] sets the 22 finger joints through :mod:`teleop.synergies`.

Signs, measured in the env (world frame of the door scene): +x is to the right of the hand,
+y toward the door, +z up; + twist rolls the hand clockwise as seen from behind it, which
pushes a grasped lever down and turns the latch open.

The arm actuators are not position servos (force = 500 ctrl - 200 q); the mapper turns each
joint target into the ctrl that gives a stiffer PD force plus gravity compensation, both
computed on a private ``MjData`` (the live env data is never touched).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import mujoco
import numpy as np

from sim.door import ACT_DIM, OBS_DIM, OBS_PALM
from teleop.command import Command
from teleop.synergies import FIRST_FINGER_INDEX, finger_targets

HAND_JOINTS = 28
"""Joints the action drives: qpos[0:28] (arm slide, 3 arm rotations, 2 wrist, 22 fingers)."""

ARM = slice(0, 4)
"""The arm joints ARTz, ARRx, ARRy, ARRz in qpos and the action."""

ROLL_JOINT = 3
"""``ARRz``: rolls the forearm about its long axis (world +y); the twist joint."""

WRIST_FLEX_JOINT = 5
"""``WRJ0``: wrist flexion; its axis is world -x at rest, so + tilts the fingertips down."""

GRASP_SITE = "S_grasp"
"""The site whose world position the observation reports as the palm."""


@dataclass(frozen=True)
class MapperConfig:
    """How commands become joint targets and actuator controls."""

    dt: float = 0.01
    """Control period (s) used to integrate commanded rates; the door env's ``env.unwrapped.dt``."""
    max_palm_speed: float = 2.0
    """Palm speed cap (m/s); a faster command is scaled down along its direction."""
    max_twist_rate: float = 6.0
    """Roll rate cap (rad/s)."""
    max_wrist_rate: float = 3.0
    """Wrist flexion rate cap (rad/s)."""
    ik_damping: float = 0.05
    """Damping lambda (m) of the least-squares IK; larger is smoother near singular poses."""
    arm_kp: tuple[float, float, float, float] = (1000.0, 1000.0, 1000.0, 800.0)
    """Stiffness of ARTz (N/m), ARRx, ARRy, ARRz (N m/rad); the actuators alone have 200."""
    arm_kd: tuple[float, float, float, float] = (80.0, 10.0, 10.0, 0.0)
    """Extra damping of the same joints (N s/m, N m s/rad), on the velocity estimated between
    observations. Keep it below each joint's own damping (20) where the inertia is small (the
    roll), or the delayed estimate makes it oscillate."""
    max_lead: float = 0.08
    """Most an arm target may lead its measured joint (m or rad), so targets do not wind up
    against the door; it also caps the arm's push to about ``arm_kp * max_lead``."""
    gravity_compensation: bool = True
    """Add the gravity torque (from the private ``MjData``) to every joint's control."""

    def __post_init__(self) -> None:
        positive = {
            "dt": self.dt,
            "max_palm_speed": self.max_palm_speed,
            "max_twist_rate": self.max_twist_rate,
            "max_wrist_rate": self.max_wrist_rate,
            "ik_damping": self.ik_damping,
            "max_lead": self.max_lead,
        }
        for name, value in positive.items():
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"MapperConfig.{name} must be a positive number, got {value!r}")
        for name, gains in (("arm_kp", self.arm_kp), ("arm_kd", self.arm_kd)):
            if len(gains) != 4 or not all(np.isfinite(g) and g >= 0 for g in gains):
                raise ValueError(f"MapperConfig.{name} needs 4 gains >= 0, got {gains!r}")

    def faster(self, speed: float) -> MapperConfig:
        """This config with its rate caps and the arm's lead (its push) ``speed`` times larger.

        Raises:
            ValueError: ``speed`` is not a positive number.

        """
        check_speed(speed)
        return replace(
            self,
            max_palm_speed=self.max_palm_speed * speed,
            max_twist_rate=self.max_twist_rate * speed,
            max_wrist_rate=self.max_wrist_rate * speed,
            max_lead=self.max_lead * speed,
        )


def check_speed(speed: float) -> None:
    """Fail fast on a speed factor that is not a positive, finite number."""
    if not (isinstance(speed, (int, float)) and np.isfinite(speed) and speed > 0):
        raise ValueError(f"a speed factor must be a positive number, got {speed!r}")


class CommandMapper:
    """Turns :class:`Command` s into 28-D actions, keeping absolute joint targets between steps.

    Call :meth:`reset` with an episode's first observation (calling the mapper before a reset
    resets it on the spot), then call the mapper once per env step.

    Args:
        model: The door env's ``MjModel`` (``env.unwrapped.model``); only read.
        config: Gains and limits; defaults to :class:`MapperConfig`.

    """

    def __init__(self, model: mujoco.MjModel, config: MapperConfig | None = None) -> None:
        self.config = config or MapperConfig()
        self.model = model
        self._data = mujoco.MjData(model)
        self._site = model.site(GRASP_SITE).id
        trn = model.actuator_trnid[:ACT_DIM, 0]
        if model.nu != ACT_DIM or not np.array_equal(trn, np.arange(ACT_DIM)):
            raise ValueError("expected 28 actuators, actuator i driving joint i (Adroit door)")
        self._q_lo, self._q_hi = model.jnt_range[:HAND_JOINTS].T.copy()
        self._c_lo, self._c_hi = model.actuator_ctrlrange[:ACT_DIM].T.copy()
        self._gain = model.actuator_gainprm[:ACT_DIM, 0].copy()
        self._bias = model.actuator_biasprm[:ACT_DIM, 1].copy()  # force = gain ctrl + bias q
        self._damping = model.dof_damping[:HAND_JOINTS].copy()
        self._slide_axis = self._artz_axis()
        self._jacp = np.zeros((3, model.nv))
        self.targets: np.ndarray | None = None
        """Absolute joint targets (28,), None before the first reset."""
        self._prev_q: np.ndarray | None = None

    @classmethod
    def for_env(cls, env: object, speed: float = 1.0) -> CommandMapper:
        """A mapper for a door env (its model, its control period ``dt``).

        Args:
            env: The door env.
            speed: Rate caps and arm lead relative to a person's (:meth:`MapperConfig.faster`).

        """
        unwrapped = env.unwrapped  # type: ignore[attr-defined]
        return cls(unwrapped.model, MapperConfig(dt=float(unwrapped.dt)).faster(speed))

    def reset(self, obs: np.ndarray) -> None:
        """Set the joint targets to the pose in ``obs`` (an episode's first observation)."""
        q = self.joint_positions(obs)
        self.targets = q.copy()
        self._prev_q = q

    def __call__(self, command: Command, obs: np.ndarray) -> np.ndarray:
        """Return the float32 (28,) action in [-1, 1] that carries out ``command`` from ``obs``."""
        if self.targets is None or self._prev_q is None:
            self.reset(obs)
        assert self.targets is not None and self._prev_q is not None
        q = self.joint_positions(obs)  # leaves the private data posed at q with ARTz = 0
        gravity = self._gravity() if self.config.gravity_compensation else np.zeros(HAND_JOINTS)
        qdot = (q - self._prev_q) / self.config.dt
        self._prev_q = q
        before = self.targets.copy()
        self._step_targets(command, q)
        target_rate = (self.targets - before) / self.config.dt
        ctrl = self._controls(self.targets, target_rate, q, qdot, gravity)
        action = 2.0 * (ctrl - self._c_lo) / (self._c_hi - self._c_lo) - 1.0
        action = np.nan_to_num(action, nan=0.0, posinf=1.0, neginf=-1.0)
        return np.clip(action, -1.0, 1.0).astype(np.float32)

    def carry_over(self, other: CommandMapper, obs: np.ndarray) -> None:
        """Continue from another mapper's joint targets (a handover between two actors)."""
        if other.targets is None or other._prev_q is None:
            self.reset(obs)
            return
        self.targets = other.targets.copy()
        self._prev_q = other._prev_q.copy()

    def joint_positions(self, obs: np.ndarray) -> np.ndarray:
        """Return qpos[0:28] for ``obs``: qpos[1:28] read, the slide ARTz recovered from the palm.

        ARTz is the first joint of the chain and a pure translation, so the palm position is
        the palm with ARTz = 0 plus ARTz times the slide axis. The env computes the palm one
        2 ms physics substep before its qpos, so ARTz is exact up to that lag (< 1 mm at
        0.5 m/s).

        Raises:
            ValueError: ``obs`` is not a finite 39-D door observation.

        """
        obs = np.asarray(obs, dtype=np.float64).reshape(-1)
        if obs.shape != (OBS_DIM,) or not np.all(np.isfinite(obs)):
            raise ValueError(f"expected a finite ({OBS_DIM},) door observation, got {obs!r}")
        q = np.zeros(HAND_JOINTS)
        q[1:] = obs[0 : HAND_JOINTS - 1]
        palm_at_zero = self._site_position(q)
        q[0] = float(np.dot(obs[OBS_PALM] - palm_at_zero, self._slide_axis))
        return q

    def gravity(self, obs: np.ndarray) -> np.ndarray:
        """Gravity torques (28,) on the hand's joints at the pose in ``obs``."""
        self.joint_positions(obs)  # poses the private data
        return self._gravity()

    # -- targets -------------------------------------------------------------------------------

    def _step_targets(self, command: Command, q: np.ndarray) -> None:
        assert self.targets is not None
        cfg = self.config
        t = self.targets
        v = np.asarray(command.palm_velocity, dtype=np.float64)
        speed = float(np.linalg.norm(v))
        if speed > cfg.max_palm_speed:
            v *= cfg.max_palm_speed / speed
        twist = float(np.clip(command.twist, -cfg.max_twist_rate, cfg.max_twist_rate))
        wrist = float(np.clip(command.wrist, -cfg.max_wrist_rate, cfg.max_wrist_rate))
        t[ARM] += self._arm_rates(v, twist, t) * cfg.dt
        lo = np.maximum(self._q_lo[ARM], q[ARM] - cfg.max_lead)
        hi = np.minimum(self._q_hi[ARM], q[ARM] + cfg.max_lead)
        t[ARM] = np.clip(t[ARM], np.minimum(lo, hi), np.maximum(lo, hi))
        t[WRIST_FLEX_JOINT] -= wrist * cfg.dt
        t[FIRST_FINGER_INDEX:] = finger_targets(command.grasp)
        np.clip(t, self._q_lo, self._q_hi, out=t)

    def _arm_rates(self, v: np.ndarray, twist: float, targets: np.ndarray) -> np.ndarray:
        """Arm joint rates: ARRz = twist, the rest solve J dq = v by damped least squares."""
        d = self._data
        d.qpos[:HAND_JOINTS] = targets
        mujoco.mj_kinematics(self.model, d)
        mujoco.mj_comPos(self.model, d)
        mujoco.mj_jacSite(self.model, d, self._jacp, None, self._site)
        jac = self._jacp[:, ARM]
        rates = np.zeros(4)
        rates[ROLL_JOINT] = twist
        residual = v - jac[:, ROLL_JOINT] * twist
        j3 = jac[:, :ROLL_JOINT]
        lam2 = self.config.ik_damping**2
        rates[:ROLL_JOINT] = j3.T @ np.linalg.solve(j3 @ j3.T + lam2 * np.eye(3), residual)
        return rates

    # -- controls ------------------------------------------------------------------------------

    def _controls(
        self,
        targets: np.ndarray,
        target_rate: np.ndarray,
        q: np.ndarray,
        qdot: np.ndarray,
        gravity: np.ndarray,
    ) -> np.ndarray:
        """Ctrl per actuator for a PD force with gravity and damping feed-forward.

        force = gravity + kp (target - q) + kd (target_rate - qdot) + damping target_rate, and
        ctrl = (force - bias q) / gain. The arm gets the stiffer ``arm_kp``/``arm_kd`` and the
        feed-forward of its joints' own damping (so a moving target is tracked without lag);
        the wrist and finger servos keep their own stiffness (kp = gain), so their ctrl is the
        target plus the gravity offset.
        """
        cfg = self.config
        kp = self._gain.copy()
        kd = np.zeros(HAND_JOINTS)
        kp[ARM] = np.asarray(cfg.arm_kp)
        kd[ARM] = np.asarray(cfg.arm_kd)
        feedforward = np.zeros(HAND_JOINTS)
        feedforward[ARM] = (kd[ARM] + self._damping[ARM]) * target_rate[ARM]
        force = gravity + kp * (targets - q) - kd * qdot + feedforward
        return (force - self._bias * q) / self._gain

    def _gravity(self) -> np.ndarray:
        """Gravity torques at the pose the private data holds (after :meth:`joint_positions`).

        That pose has ARTz = 0; a translation of the whole chain along the horizontal slide
        changes no gravity torque, so this is the gravity at the measured pose.
        """
        d = self._data
        d.qvel[:] = 0.0
        mujoco.mj_comPos(self.model, d)
        bias = np.zeros(self.model.nv)
        mujoco.mj_rne(self.model, d, 0, bias)
        return bias[:HAND_JOINTS]

    def _site_position(self, q: np.ndarray) -> np.ndarray:
        d = self._data
        d.qpos[:HAND_JOINTS] = q
        mujoco.mj_kinematics(self.model, d)
        return d.site_xpos[self._site].copy()

    def _artz_axis(self) -> np.ndarray:
        d = self._data
        d.qpos[:] = 0.0
        mujoco.mj_kinematics(self.model, d)
        axis = d.xaxis[0].copy()
        return axis / np.linalg.norm(axis)
