"""Keyboard and gamepad devices (real pygame events through the real queue) and the human guide."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pygame
import pytest

from teleop.command import TeleopEvent
from teleop.gamepad import GamepadConfig, GamepadDevice
from teleop.keyboard import KeyboardConfig, KeyboardDevice


@pytest.fixture(scope="module", autouse=True)
def _pygame():
    pygame.display.init()
    pygame.display.set_mode((32, 32))
    yield
    pygame.display.quit()


def _pump(*devices) -> None:
    """Forward everything on the real pygame queue to the devices (as the app does)."""
    for event in pygame.event.get():
        for device in devices:
            device.handle_event(event)


def _key(key: int, down: bool = True) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN if down else pygame.KEYUP, key=key))


def test_keyboard_held_keys_give_palm_twist_wrist():
    kb = KeyboardDevice(KeyboardConfig(palm_speed=0.3, twist_speed=2.0, wrist_speed=1.0))
    kb.connect()
    for key in (pygame.K_d, pygame.K_w, pygame.K_q, pygame.K_RIGHT, pygame.K_DOWN):
        _key(key)
    _pump(kb)
    cmd = kb.get_action(0.01)
    assert cmd.palm_velocity == (0.3, 0.3, -0.3)
    assert (cmd.twist, cmd.wrist) == (2.0, -1.0)
    for key in (pygame.K_d, pygame.K_w, pygame.K_q, pygame.K_RIGHT, pygame.K_DOWN):
        _key(key, down=False)
    _key(pygame.K_a)
    _key(pygame.K_s)
    _key(pygame.K_e)
    _pump(kb)
    cmd = kb.get_action(0.01)
    assert cmd.palm_velocity == (-0.3, -0.3, 0.3)
    assert (cmd.twist, cmd.wrist) == (0.0, 0.0)


def test_keyboard_opposite_keys_cancel_and_focus_loss_releases():
    kb = KeyboardDevice()
    kb.connect()
    _key(pygame.K_d)
    _key(pygame.K_a)
    _key(pygame.K_LEFT)
    _pump(kb)
    cmd = kb.get_action()
    assert cmd.palm_velocity[0] == 0.0
    assert cmd.twist < 0
    kb.handle_event(pygame.event.Event(pygame.WINDOWFOCUSLOST))
    assert kb.get_action().twist == 0.0


def test_keyboard_space_toggles_the_grasp_which_ramps():
    kb = KeyboardDevice(KeyboardConfig(grasp_rate=4.0))
    kb.connect()
    _key(pygame.K_SPACE)
    _key(pygame.K_SPACE, down=False)  # a tap closes: nothing needs holding
    _pump(kb)
    assert kb.grasp_closed and kb.moving  # the fingers are still closing
    levels = [kb.get_action(0.01).grasp for _ in range(30)]
    assert levels[0] == pytest.approx(0.04)
    assert levels[-1] == 1.0 and not kb.moving
    assert all(b >= a for a, b in itertools.pairwise(levels))
    _key(pygame.K_SPACE)  # a second tap opens
    _pump(kb)
    assert kb.get_action(0.01).grasp == pytest.approx(0.96)
    kb.set_grasp(False)  # the human guide lets go at once after a pull
    assert kb.get_action(0.01).grasp == 0.0 and not kb.grasp_closed


def test_keyboard_pull_shift_and_moving():
    kb = KeyboardDevice(KeyboardConfig(palm_speed=0.8, fine_scale=0.25))
    kb.connect()
    assert not kb.moving
    _key(pygame.K_f)
    _pump(kb)
    assert kb.get_action().pull and kb.moving
    _key(pygame.K_f, down=False)
    _key(pygame.K_d)
    _key(pygame.K_LSHIFT)
    _pump(kb)
    cmd = kb.get_action()
    assert not cmd.pull and cmd.palm_velocity[0] == pytest.approx(0.2)
    _key(pygame.K_d, down=False)
    _pump(kb)
    assert not kb.moving  # Shift alone moves nothing: the hold-to-run clock waits


def test_keyboard_events_drain_and_ride_on_the_command():
    kb = KeyboardDevice()
    kb.connect()
    keys = {
        pygame.K_TAB: TeleopEvent.TOGGLE_CONTROL,
        pygame.K_RETURN: TeleopEvent.START,
        pygame.K_p: TeleopEvent.PAUSE,
        pygame.K_r: TeleopEvent.RESET,
        pygame.K_EQUALS: TeleopEvent.SPEED_UP,
        pygame.K_MINUS: TeleopEvent.SLOW_DOWN,
        pygame.K_F1: TeleopEvent.HELP,
        pygame.K_h: TeleopEvent.HELP,
        pygame.K_ESCAPE: TeleopEvent.QUIT,
    }
    for key in keys:
        _key(key)
    _pump(kb)
    assert kb.get_events() == list(keys.values())
    assert kb.get_events() == []
    assert kb.get_action().events == frozenset(keys.values())
    assert kb.get_action().events == frozenset()


def test_keyboard_ignores_events_until_connected():
    kb = KeyboardDevice()
    _key(pygame.K_d)
    _pump(kb)
    assert kb.get_action().palm_velocity == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="palm_speed"):
        KeyboardConfig(palm_speed=-1.0)


@dataclass
class StandInPad:
    """The one part of a pad the machine lacks: the device node. Its events are real."""

    instance_id: int

    def get_instance_id(self) -> int:
        return self.instance_id

    def get_name(self) -> str:
        return "stand-in pad"


def _pad_event(kind: int, **attrs) -> None:
    pygame.event.post(pygame.event.Event(kind, **attrs))


def test_gamepad_sticks_triggers_buttons():
    pad = GamepadDevice(
        GamepadConfig(palm_speed=0.2, dead_zone=0.2), opener=lambda i: StandInPad(7)
    )
    pad.connect()
    _pad_event(pygame.JOYDEVICEADDED, device_index=0)
    _pump(pad)
    assert pad.is_connected
    _pad_event(pygame.JOYAXISMOTION, instance_id=7, axis=0, value=1.0)
    _pad_event(pygame.JOYAXISMOTION, instance_id=7, axis=1, value=-0.6)  # stick forward
    _pad_event(pygame.JOYAXISMOTION, instance_id=7, axis=2, value=0.1)  # inside the dead-zone
    _pad_event(pygame.JOYAXISMOTION, instance_id=7, axis=3, value=-1.0)
    _pad_event(pygame.JOYAXISMOTION, instance_id=7, axis=5, value=1.0)  # right trigger
    _pad_event(pygame.JOYAXISMOTION, instance_id=9, axis=0, value=-1.0)  # another pad: ignored
    _pad_event(pygame.JOYBUTTONDOWN, instance_id=7, button=0)
    for button in (5, 7, 6):
        _pad_event(pygame.JOYBUTTONDOWN, instance_id=7, button=button)
    _pump(pad)
    cmd = pad.get_action(0.01)
    vx, vy, vz = cmd.palm_velocity
    assert vx == pytest.approx(0.2)
    assert vy == pytest.approx(0.2 * (0.6 - 0.2) / 0.8)
    assert vz == pytest.approx(0.2)
    assert cmd.twist == 0.0
    assert cmd.wrist == pytest.approx(1.5)
    assert cmd.grasp == pytest.approx(0.04)
    assert pad.get_events() == [
        TeleopEvent.TOGGLE_CONTROL,
        TeleopEvent.START,
        TeleopEvent.RESET,
    ]


def test_gamepad_trigger_resting_at_minus_one_reads_released():
    pad = GamepadDevice(opener=lambda i: StandInPad(3))
    pad.connect()
    _pad_event(pygame.JOYDEVICEADDED, device_index=0)
    _pad_event(pygame.JOYAXISMOTION, instance_id=3, axis=4, value=-1.0)
    _pad_event(pygame.JOYAXISMOTION, instance_id=3, axis=5, value=-1.0)
    _pump(pad)
    assert pad.get_action().palm_velocity[2] == 0.0
    _pad_event(pygame.JOYAXISMOTION, instance_id=3, axis=4, value=1.0)
    _pump(pad)
    assert pad.get_action().palm_velocity[2] == pytest.approx(-0.25)


def test_gamepad_unplug_mid_use_gives_zero_commands_and_replug_works():
    ids = iter([4, 5])
    pad = GamepadDevice(opener=lambda i: StandInPad(next(ids)))
    pad.connect()
    _pad_event(pygame.JOYDEVICEADDED, device_index=0)
    _pad_event(pygame.JOYAXISMOTION, instance_id=4, axis=0, value=1.0)
    _pad_event(pygame.JOYBUTTONDOWN, instance_id=4, button=0)
    _pump(pad)
    assert pad.get_action().palm_velocity[0] > 0
    _pad_event(pygame.JOYDEVICEREMOVED, instance_id=99)  # some other device
    _pump(pad)
    assert pad.is_connected
    _pad_event(pygame.JOYDEVICEREMOVED, instance_id=4)
    _pad_event(pygame.JOYAXISMOTION, instance_id=4, axis=0, value=1.0)  # late event: ignored
    _pump(pad)
    assert not pad.is_connected
    cmd = pad.get_action()
    assert cmd.palm_velocity == (0.0, 0.0, 0.0)
    assert cmd.grasp == 0.0
    _pad_event(pygame.JOYDEVICEADDED, device_index=0)
    _pump(pad)
    assert pad.is_connected
    assert pad.get_action().palm_velocity == (0.0, 0.0, 0.0)  # fresh state


def test_gamepad_with_real_sdl_and_no_pad_never_raises():
    """Real pygame joystick module: announcing a pad that is not there is logged, not raised."""
    pygame.joystick.init()
    pad = GamepadDevice()
    pad.connect()
    assert not pad.is_connected
    _pad_event(pygame.JOYDEVICEADDED, device_index=pygame.joystick.get_count())
    _pad_event(pygame.JOYDEVICEREMOVED, instance_id=12345)
    _pad_event(pygame.JOYBUTTONDOWN, instance_id=0, button=7)
    _pump(pad)
    assert not pad.is_connected
    assert pad.last_error is not None
    assert pad.get_action().palm_velocity == (0.0, 0.0, 0.0)
    assert pad.get_events() == []


def test_human_guide_moves_the_palm_the_way_the_keys_say():
    """Real env, real mapper: holding D then W then E moves the palm +x, +y, +z."""
    import sim
    from guides.human import HumanGuide
    from sim.door import OBS_PALM
    from teleop.mapper import CommandMapper

    env = sim.make_door()
    kb = KeyboardDevice()
    kb.connect()
    guide = HumanGuide(kb, CommandMapper(env.unwrapped.model))
    obs, _ = env.reset(seed=3)
    guide.reset(obs)
    for axis, key in enumerate((pygame.K_d, pygame.K_w, pygame.K_e)):
        _key(key)
        _pump(kb)
        start = obs[OBS_PALM].copy()
        for _ in range(25):
            obs, *_ = env.step(guide.act(obs))
        _key(key, down=False)
        _pump(kb)
        moved = obs[OBS_PALM] - start
        assert moved[axis] > 0.02, (axis, moved)
        assert np.argmax(np.abs(moved)) == axis, (axis, moved)
    assert guide.last_command.palm_velocity[2] > 0
    env.close()
