"""JSRL curricula: stages advance only on real success, random draws, checkpoints of state."""

import itertools
import json

import numpy as np
import pytest

from episode.types import EpisodeResult
from learner.config import CurriculumConfig
from learner.curriculum import (
    FixedHorizon,
    GuideStats,
    JSRLCurriculum,
    JSRLRandom,
    NoGuide,
    guide_stats,
    make_curriculum,
    measure_h1,
    stage_horizons,
)
from sim.errors import UserError


def result(h, success, ret=None, first=None, n_human=0, open_at_end=None):
    if ret is None:
        ret = -120.0 if success else -200.0
    if success and first is None:
        first = int(-ret) + 1
    return EpisodeResult(
        seed=0,
        h=h,
        steps=200,
        episode_return=float(ret),
        success=success,
        first_success_step=first if success else None,
        n_guide=h,
        n_explorer=200 - h,
        n_human=n_human,
        guide_kind="scripted",
        weight_version=1,
        open_at_end=success if open_at_end is None else open_at_end,
    )


def feed(cur, outcomes):
    for s in outcomes:
        cur.update(result(cur.horizon(), s))


def test_stage_horizons_go_from_h1_to_zero():
    hs = stage_horizons(113, 10)
    assert len(hs) == 10 and hs[0] == 113 and hs[-1] == 0
    assert all(a > b for a, b in itertools.pairwise(hs))
    with pytest.raises(ValueError, match="n_stages"):
        stage_horizons(100, 1)


def test_all_failing_episodes_never_advance_the_stage():
    """The paper's rule alone holds when every episode fails; the success gate must not."""
    cur = JSRLCurriculum(120, guide_success=0.4, guide_return=-200.0)
    feed(cur, [False] * 300)
    st = cur.status()
    assert st.stage == 0 and st.h == 120
    assert "open at end 0%" in st.reason and "required" in st.reason
    assert cur.advances == []


def test_real_success_advances_one_stage_per_full_window():
    cur = JSRLCurriculum(90, n_stages=4, window=5, guide_success=0.4, guide_return=-165.0)
    assert cur.horizons == [90, 60, 30, 0]
    feed(cur, [True, True, False, True])  # 4 of 5: window not full
    assert cur.stage == 0 and "not full" in cur.status().reason
    feed(cur, [True])
    assert cur.stage == 1 and cur.horizon() == 60
    assert cur.status().reason.startswith("advanced to stage 1")
    feed(cur, [True] * 4)  # the new stage needs a window of its own
    assert cur.stage == 1
    feed(cur, [True])
    assert cur.stage == 2


def test_success_gate_is_relative_to_the_guide():
    strong = JSRLCurriculum(100, guide_success=0.9, metric="success")
    weak = JSRLCurriculum(100, guide_success=0.2, metric="success")
    outcomes = [True, False, True, False, False]  # 40 %
    feed(strong, outcomes)
    feed(weak, outcomes)
    assert strong.stage == 0 and "90%" in strong.status().reason
    assert weak.stage == 1


def test_return_must_be_within_tolerance_of_the_best_earlier_average():
    cur = JSRLCurriculum(100, window=2, tolerance=0.05, guide_success=0.5, guide_return=-100.0)
    for _ in range(2):  # all succeed, but the door opens much later than the guide's episodes
        cur.update(result(cur.horizon(), True, ret=-180.0))
    assert cur.stage == 0 and "within 5%" in cur.status().reason
    for _ in range(2):
        cur.update(result(cur.horizon(), True, ret=-103.0))
    assert cur.stage == 1


def test_a_door_opened_then_shut_again_is_no_success():
    """The guide opens the door before the handover, the explorer shuts it: holds."""
    cur = JSRLCurriculum(100, window=5, guide_success=0.4, guide_return=-200.0)
    for _ in range(20):
        cur.update(result(100, True, ret=-190.0, first=95, open_at_end=False))
    assert cur.stage == 0 and "open at end 0%" in cur.status().reason


def test_foreign_and_human_episodes_are_not_counted():
    cur = JSRLCurriculum(100, window=2, guide_success=0.5)
    cur.update(result(37, True))
    assert "not counted" in cur.status().reason
    cur.update(result(100, True, n_human=3))
    assert "human" in cur.status().reason
    assert cur.stage == 0
    feed(cur, [True, True])
    assert cur.stage == 1


def test_final_stage_is_h_zero_and_stays():
    cur = JSRLCurriculum(50, n_stages=2, window=1, guide_success=0.5)
    feed(cur, [True])
    assert cur.final and cur.horizon() == 0
    feed(cur, [True, False, True])
    assert cur.stage == 1 and cur.status().reason.startswith("final")


def test_curriculum_state_dict_round_trip_continues_identically():
    rng = np.random.default_rng(3)
    outcomes = list(rng.random(120) < 0.7)
    a = JSRLCurriculum(110, window=3, guide_success=0.5, guide_return=-160.0)
    feed(a, outcomes[:47])
    state = json.loads(json.dumps(a.state_dict()))  # plain values: fits JSON and checkpoints
    b = JSRLCurriculum(110, window=3, guide_success=0.5, guide_return=-160.0)
    b.load_state_dict(state)
    assert b.status() == a.status()
    feed(a, outcomes[47:])
    feed(b, outcomes[47:])
    assert b.status() == a.status() and b.advances == a.advances
    assert a.stage > 0  # the sequence did advance: the round trip was tested on real moves
    with pytest.raises(ValueError, match="H1"):
        JSRLCurriculum(99, window=3).load_state_dict(state)


def test_random_draws_cover_zero_to_h1_and_resume_the_same_sequence():
    cur = JSRLRandom(7, np.random.default_rng(0))
    seen = []
    for _ in range(400):
        seen.append(cur.horizon())
        assert cur.horizon() == seen[-1]  # stable until the next update
        cur.update(result(seen[-1], False))
    assert min(seen) == 0 and max(seen) == 7 and set(seen) == set(range(8))
    state = cur.state_dict()
    other = JSRLRandom(7, np.random.default_rng(99))
    other.load_state_dict(state)
    nxt = []
    for c in (cur, other):
        draws = []
        for _ in range(20):
            draws.append(c.horizon())
            c.update(result(draws[-1], True))
        nxt.append(draws)
    assert nxt[0] == nxt[1]
    assert cur.status().stage == 0 and cur.status().n_stages == 1


def test_none_and_fixed():
    assert NoGuide().horizon() == 0 and NoGuide().status().strategy == "none"
    f = FixedHorizon(42)
    f.update(result(42, False))
    assert f.horizon() == 42
    with pytest.raises(ValueError):
        FixedHorizon(-1)


def test_measure_h1_is_mean_steps_to_success_rounded_up():
    rs = [result(200, True, first=100), result(200, False), result(200, True, first=111)]
    assert measure_h1(rs) == 106  # ceil(105.5)
    stats = guide_stats(rs)
    assert stats.h1 == 106 and stats.success_rate == pytest.approx(2 / 3)
    assert guide_stats(rs, h1=80).h1 == 80
    with pytest.raises(UserError, match="none of its 2 episodes"):
        measure_h1([result(200, False), result(200, False)])


def test_make_curriculum_per_strategy():
    stats = GuideStats(episodes=10, success_rate=0.4, mean_return=-170.0, h1=120)
    cfg = CurriculumConfig(n_stages=5, window=3, fixed_h=33)
    cur = make_curriculum("curriculum", stats, cfg)
    assert isinstance(cur, JSRLCurriculum) and cur.horizons[0] == 120 and cur.n_stages == 5
    assert cur.required_success == pytest.approx(0.4)
    assert make_curriculum("random", stats, cfg).status().H1 == 120
    assert make_curriculum("none", None, cfg).horizon() == 0
    assert make_curriculum("fixed", None, cfg).horizon() == 33
    with pytest.raises(ValueError, match="stats"):
        make_curriculum("curriculum", None, cfg)


def test_given_h1_without_guide_measurements_still_needs_real_success():
    cur = make_curriculum("curriculum", GuideStats(0, None, None, 60), CurriculumConfig(window=2))
    assert cur.horizon() == 60 and cur.required_success == pytest.approx(0.2)
    feed(cur, [False] * 10)
    assert cur.stage == 0
    feed(cur, [True, False])
    assert cur.stage == 1
