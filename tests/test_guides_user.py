"""User guides from FILE.py:NAME and module:NAME: loading, validation, and every broken form."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import launch
import sim
from episode.guide import GuideError
from guides.user import load_user_guide, parse_user_spec
from tests.conftest import ROOT

GOOD = """
import numpy as np

class Hold:
    kind = "mine"
    def __init__(self):
        self.resets = 0
    def reset(self, obs):
        self.resets += 1
    def act(self, obs):
        return np.full(28, 0.1, dtype=np.float32)

def make():
    return Hold()

def make_fn():
    return lambda obs: np.zeros(28)

def policy(obs):
    return -0.2 * np.ones(28)

INSTANCE = Hold()
"""

BROKEN = {
    "wrong_shape": "def g(obs):\n    return np.zeros(27)\n",
    "nan": "def g(obs):\n    a = np.zeros(28)\n    a[3] = np.nan\n    return a\n",
    "raises": "def g(obs):\n    raise RuntimeError('boom in act')\n",
    "late_raise": (
        "class G:\n    t = 0\n    def reset(self, obs):\n        self.t = 0\n"
        "    def act(self, obs):\n        self.t += 1\n"
        "        if self.t > 150:\n            raise ValueError('late')\n"
        "        return np.zeros(28)\n"
        "def g():\n    return G()\n"
    ),
    "not_callable": "g = 42\n",
    "returns_junk": "def g():\n    return 'hello'\n",
    "too_many_args": "def g(a, b, c):\n    return None\n",
    "factory_raises": "def g():\n    raise KeyError('no config')\n",
}


def _write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text("import numpy as np\n" + textwrap.dedent(body))
    return path


@pytest.mark.parametrize("name", ["make", "make_fn", "policy", "INSTANCE"])
def test_file_spec_forms_load_and_act(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, "good_guide", GOOD)
    guide = load_user_guide(f"{path}:{name}")
    assert guide.kind == "user"
    obs = np.zeros(39)
    guide.reset(obs)
    action = guide.act(obs)
    assert action.shape == (28,) and action.dtype == np.float32
    assert np.all(np.isfinite(action))


def test_module_spec_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "my_mod_guide_xyz", GOOD)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        guide = load_user_guide("my_mod_guide_xyz:make")
        assert guide.inner_kind == "mine"
        assert guide.act(np.zeros(39))[0] == pytest.approx(0.1)
    finally:
        sys.modules.pop("my_mod_guide_xyz", None)


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_user_guides_raise_guide_error(tmp_path: Path, case: str) -> None:
    path = _write(tmp_path, f"broken_{case}", BROKEN[case])
    with pytest.raises(GuideError) as info:
        load_user_guide(f"{path}:g")
    message = str(info.value)
    assert "\n" not in message
    assert "g" in message


def test_missing_file_module_attr_and_import_error(tmp_path: Path) -> None:
    with pytest.raises(GuideError, match="not found"):
        load_user_guide(f"{tmp_path}/nope.py:g")
    with pytest.raises(GuideError, match="not found"):
        load_user_guide("no_such_module_abc123:g")
    path = _write(tmp_path, "has_other", GOOD)
    with pytest.raises(GuideError, match="no attribute 'missing'"):
        load_user_guide(f"{path}:missing")
    bad = tmp_path / "syntax.py"
    bad.write_text("def g(:\n")
    with pytest.raises(GuideError, match="SyntaxError"):
        load_user_guide(f"{bad}:g")
    imp = tmp_path / "imp.py"
    imp.write_text("import not_a_real_package_zz\n")
    with pytest.raises(GuideError, match="ModuleNotFoundError"):
        load_user_guide(f"{imp}:g")


def test_parse_spec_needs_a_colon() -> None:
    with pytest.raises(GuideError):
        parse_user_spec("just_a_name")
    spec = parse_user_spec("a/b/c.py:make")
    assert spec.is_file and spec.name == "make"
    assert not parse_user_spec("pkg.mod:make").is_file


# -- through the factory and the command line ------------------------------------------------

EXAMPLE = ROOT / "docs" / "examples" / "my_guide.py"


def test_factory_builds_file_spec(tmp_path: Path) -> None:
    from guides.registry import make_guide

    path = _write(tmp_path, "factory_guide", GOOD)
    env = sim.make_door()
    guide = make_guide(f"{path}:policy", env, seed=0)
    assert guide.kind == "user"
    obs, _ = env.reset(seed=0)
    assert np.allclose(guide.act(obs), -0.2)


def test_factory_builds_module_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from guides.registry import make_guide

    _write(tmp_path, "factory_mod_guide", GOOD)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        guide = make_guide("factory_mod_guide:policy", sim.make_door(), seed=0)
        assert guide.kind == "user"
        with pytest.raises(GuideError, match="not found"):
            make_guide("no_such_module_here:policy", sim.make_door())
    finally:
        sys.modules.pop("factory_mod_guide", None)


@pytest.mark.parametrize("case", ["wrong_shape", "nan", "raises", "not_callable"])
def test_collect_with_broken_user_guide_exits_2(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import guides.user  # noqa: F401  (registers the FILE.py form)

    path = _write(tmp_path, f"cli_{case}", BROKEN[case])
    out = tmp_path / "rec" / "door-user-v0"
    code = launch.main(["collect", "--guide", f"{path}:g", "--episodes", "1", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert not (out / "data" / "main_data.hdf5").exists() or _episodes(out) == 0


def test_collect_with_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    import guides.user  # noqa: F401

    out = tmp_path / "rec" / "door-user-v0"
    code = launch.main(["collect", "--guide", f"{tmp_path}/nope.py:g", "--out", str(out)])
    assert code == 2
    assert "not found" in capsys.readouterr().err


def test_example_guide_runs_an_episode() -> None:
    guide = load_user_guide(f"{EXAMPLE}:make_guide")
    assert guide.kind == "user" and guide.inner_kind == "sloppy-scripted"
    env = sim.make_door()
    obs, _ = env.reset(seed=3)
    guide.reset(obs)
    start_palm = obs[29:32].copy()
    for _ in range(30):
        obs, *_ = env.step(guide.act(obs))
    # It drives the palm toward the handle: the palm-to-handle distance shrinks.
    assert np.linalg.norm(obs[35:38]) < np.linalg.norm(start_palm - obs[32:35])
    hand = load_user_guide(f"{EXAMPLE}:open_hand")
    assert hand.act(obs).shape == (28,)


def _episodes(dataset: Path) -> int:
    from recordings.reader import episode_count

    return episode_count(dataset)
