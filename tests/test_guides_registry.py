"""The guide registry: one spec parse, lazy string entry points, ``human`` only with devices."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import sim
from episode.guide import GuideError
from guides.human import HumanGuide
from guides.registry import (
    FILE_KIND,
    HUMAN_UNAVAILABLE,
    MODULE_KIND,
    GuideRegistry,
    GuideSpec,
    builtin_registry,
    make_guide,
    parse_spec,
)
from guides.scripted import ScriptedGuide
from teleop.keyboard import KeyboardDevice

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def env():
    e = sim.make_door()
    yield e
    e.close()


@pytest.mark.parametrize(
    ("text", "kind", "argument"),
    [
        ("scripted", "scripted", None),
        ("  scripted:0.5 ", "scripted", "0.5"),
        ("imitation:recordings/door-human-v0", "imitation", "recordings/door-human-v0"),
        ("policy:runs/a:b.pt", "policy", "runs/a:b.pt"),  # only the first colon splits
        ("my_guide.py:make", FILE_KIND, "my_guide.py:make"),
        ("dir/guide:make", FILE_KIND, "dir/guide:make"),
        ("pkg.mod:Class.make", MODULE_KIND, "pkg.mod:Class.make"),
        ("human", "human", None),
        ("imitation:", "imitation", ""),
    ],
)
def test_a_spec_is_parsed_once_into_kind_and_argument(text, kind, argument):
    spec = parse_spec(text)
    assert spec == GuideSpec(kind, argument)
    assert spec.text == text.strip() and str(spec) == text.strip()
    assert parse_spec(spec) is spec  # a parsed spec is not parsed again


@pytest.mark.parametrize("text", ["", "   ", "nope", "no-such-guide:x", "sc ripted:1"])
def test_an_unknown_spec_lists_every_valid_form(text):
    with pytest.raises(GuideError) as info:
        parse_spec(text)
    message = str(info.value)
    assert "\n" not in message
    for usage in ("scripted[:SKILL]", "imitation:DATASET", "policy:CKPT", "FILE.py:CALLABLE",
                  "package.module:CALLABLE", "human"):  # fmt: skip
        assert usage in message


def test_human_outside_the_app_is_one_clear_line(env):
    with pytest.raises(GuideError) as info:
        make_guide("human", env)
    assert str(info.value) == HUMAN_UNAVAILABLE and "\n" not in str(info.value)


def test_human_with_the_apps_device(env):
    registry = builtin_registry()  # (app.main, when imported, still puts its own `human` in)
    guide = registry.make("human", env, device=KeyboardDevice())
    assert isinstance(guide, HumanGuide) and guide.kind == "human"
    assert guide.dt == env.unwrapped.dt
    with pytest.raises(GuideError, match="no argument"):
        registry.make("human:x", env, device=KeyboardDevice())
    with pytest.raises(GuideError, match="window"):
        registry.make("human", env, device=None)


def test_other_kinds_ignore_the_apps_context(env):
    guide = make_guide(GuideSpec("scripted", "0.5"), env, seed=3, device=KeyboardDevice())
    assert isinstance(guide, ScriptedGuide) and guide.config.skill == 0.5


def test_a_registry_of_ones_own(env, tmp_path, monkeypatch):
    made = []

    def build(argument, env_, seed):
        made.append((argument, seed))
        return make_guide("scripted", env_, seed=seed)

    (tmp_path / "lazy_guide_plugin.py").write_text(
        textwrap.dedent(
            """
            from guides.registry import make_guide

            def build(argument, env, seed):
                return make_guide("scripted", env, seed=seed)
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = GuideRegistry()
    registry.register("mine", build, "mine:THING")
    registry.register(FILE_KIND, build, "FILE.py:CALLABLE")
    registry.register("lazy", "lazy_guide_plugin:build", "lazy")
    registry.register("broken", "lazy_guide_plugin:missing", "broken")
    registry.make("mine:abc", env, seed=4)
    registry.make("my_guide.py:make", env)
    assert made == [("abc", 4), ("my_guide.py:make", 0)]
    assert "lazy_guide_plugin" not in sys.modules
    assert isinstance(registry.make("lazy", env), ScriptedGuide)
    assert "lazy_guide_plugin" in sys.modules
    with pytest.raises(GuideError, match="cannot load 'lazy_guide_plugin:missing'"):
        registry.make("broken", env)
    with pytest.raises(GuideError, match="mine:THING"):
        registry.make("other", env)
    with pytest.raises(GuideError, match="mine:THING"):
        registry.make("pkg.mod:f", env)  # no module kind in this registry
    with pytest.raises(ValueError, match="kind"):
        registry.register("a:b", build, "a:b")
    sys.modules.pop("lazy_guide_plugin", None)


LAZY = """
import sys
import guides.registry
from guides.registry import REGISTRY, make_guide
import sim

heavy = ("torch", "guides.imitation", "guides.policy", "guides.user", "guides.human",
         "guides.scripted", "learner.bc", "app.main", "pygame")
loaded = [m for m in heavy if m in sys.modules]
assert not loaded, f"importing the registry imported {loaded}"
kinds = sorted(e.kind for e in REGISTRY)
env = sim.make_door()
make_guide("scripted", env)
assert "guides.scripted" in sys.modules
assert "guides.imitation" not in sys.modules and "torch" not in sys.modules
try:
    make_guide("human", env)
except Exception as e:
    print(type(e).__name__, e)
assert "guides.human" not in sys.modules  # refused before its module is imported
try:
    make_guide("imitation:/nonexistent", env)
except Exception as e:
    print(type(e).__name__, e)
assert "guides.imitation.load" in sys.modules
import guides.imitation, guides.policy, guides.user, guides.human, guides.dagger  # noqa
assert sorted(e.kind for e in REGISTRY) == kinds, "an import registered a guide"
print("ok")
"""


def test_entry_points_are_imported_only_when_their_kind_is_built():
    out = subprocess.run(
        [sys.executable, "-c", LAZY], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == f"GuideError {HUMAN_UNAVAILABLE}"
    assert lines[1].startswith("GuideError imitation guide:") and "not a dataset" in lines[1]
    assert lines[-1] == "ok"
    assert sorted(e.kind for e in builtin_registry()) == sorted(
        ["scripted", "imitation", "policy", FILE_KIND, MODULE_KIND, "human"]
    )
