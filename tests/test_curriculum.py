"""JSRL curricula: stages at the guide's phases, advanced only by deterministic trials."""

import itertools
import json

import numpy as np
import pytest

import sim
from episode.milestones import MILESTONES
from episode.runner import EpisodeRunner
from episode.types import EpisodeResult
from guides.registry import make_guide
from learner.config import CurriculumConfig
from learner.curriculum import FixedHorizon, JSRLCurriculum, JSRLRandom, NoGuide, make_curriculum
from learner.stages import (
    GuideStats,
    curriculum_horizons,
    guide_stats,
    measure_h1,
    phase_horizons,
    required_success,
    stage_horizons,
)
from sim.errors import UserError


def result(h, success, ret=None, first=None, n_human=0, open_at_end=None, deterministic=False):
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
        open_steps=200 - first + 1 if success else 0,
        deterministic=deterministic,
    )


def feed(cur, outcomes):
    """Play episodes the way the trainer does: a trial's episodes are deterministic."""
    for s in outcomes:
        cur.update(result(cur.horizon(), s, deterministic=cur.trial_due))


def train_then_trial(cur, trial, training=None):
    """One full stage cycle: ``window`` training episodes, then the trial's outcomes."""
    assert not cur.trial_due
    feed(cur, training if training is not None else [False] * cur.window)
    assert cur.trial_due
    feed(cur, trial)


@pytest.fixture(scope="module")
def guide_results():
    """Five real episodes of the scripted guide alone (about 1.5 s)."""
    env = sim.make_door()
    runner = EpisodeRunner(env, make_guide("scripted", env, seed=0), None)
    return [runner.run_episode(seed=s, h=sim.EPISODE_STEPS) for s in range(5)]


def test_stage_horizons_go_from_h1_to_zero():
    hs = stage_horizons(113, 10)
    assert len(hs) == 10 and hs[0] == 113 and hs[-1] == 0
    assert all(a > b for a, b in itertools.pairwise(hs))
    with pytest.raises(ValueError, match="n_stages"):
        stage_horizons(100, 1)


@pytest.mark.parametrize("max_gap", [20, 10])
def test_phase_horizons_on_the_scripted_guide_lie_at_its_milestones(guide_results, max_gap):
    assert all(r.success and len(r.milestones) == len(MILESTONES) for r in guide_results)
    h1 = measure_h1(guide_results)
    hs = phase_horizons(guide_results, h1, max_gap=max_gap)
    assert hs[0] == h1 and hs[-1] == 0
    assert all(a > b for a, b in itertools.pairwise(hs))
    assert all(a - b <= max_gap for a, b in itertools.pairwise(hs))
    medians = {
        int(np.median([r.milestones[i] for r in guide_results])) for i in range(len(MILESTONES))
    }
    inside = {m for m in medians if 0 < m < h1}
    assert len(inside) >= 3  # reach, turn, unlatch, swing all happen before the door opens
    assert inside <= set(hs)  # every phase change is a stage
    # The stages that are not phases only split gaps wider than max_gap.
    fill = set(hs) - inside - {h1, 0}
    marks = sorted(inside | {h1, 0})
    for h in fill:
        lo = max(m for m in marks if m < h)
        hi = min(m for m in marks if m > h)
        assert hi - lo > max_gap
    stats = guide_stats(guide_results)
    assert curriculum_horizons(h1, CurriculumConfig(max_gap=max_gap), guide_results) == hs
    cur = make_curriculum(
        "curriculum", stats, CurriculumConfig(max_gap=max_gap), guide_results=guide_results
    )
    assert cur.horizons == hs


def test_phase_horizons_merge_close_marks_and_fall_back_without_milestones():
    def won(*milestones):
        return EpisodeResult(0, 200, 200, -100.0, True, 100, 200, 0, 0, "t", 0,
                             open_steps=100, milestones=milestones)  # fmt: skip

    rs = [won(30, 32, 60, None, 100)] * 3
    assert phase_horizons(rs, 100, max_gap=50, min_gap=4) == [100, 60, 32, 0]  # 30 merged
    assert phase_horizons(rs, 100, max_gap=25) == [100, 80, 60, 46, 32, 16, 0]
    early = [won(2, 30, None, None, 100)] * 3  # a mark within min_gap of 0 merges into 0
    assert phase_horizons(early, 100, max_gap=100) == [100, 30, 0]
    lost = [result(200, False)] * 3  # failed episodes place no stage
    assert phase_horizons(lost + early[:1], 100, max_gap=100) == [100, 30, 0]
    no_marks = [result(200, True, first=90)] * 3  # results without milestones
    even = CurriculumConfig(n_stages=4)
    assert curriculum_horizons(90, even, no_marks) == [90, 60, 30, 0]
    assert curriculum_horizons(90, CurriculumConfig(stages="even", n_stages=4), rs) == [
        90,
        60,
        30,
        0,
    ]
    with pytest.raises(ValueError, match="H1"):
        phase_horizons(rs, 0)


def test_all_failing_episodes_never_advance_the_stage():
    """Every trial fails: the stage holds however many episodes run."""
    cur = JSRLCurriculum([120, 60, 0], window=5, trial_episodes=4, required_success=0.3)
    for _ in range(30):
        train_then_trial(cur, [False] * 4)
        assert "holds" in cur.status().reason and "0/4" in cur.status().reason
    st = cur.status()
    assert st.stage == 0 and st.h == 120 and cur.advances == []
    assert cur.episodes == 30 * 9


def test_successful_training_episodes_alone_never_advance():
    """Only the deterministic trial decides: stochastic successes do not count towards it."""
    cur = JSRLCurriculum([90, 45, 0], window=3, trial_episodes=2, required_success=0.5)
    for _ in range(20):
        cur.update(result(cur.horizon(), True, deterministic=False))
    assert cur.stage == 0 and cur.trial_due  # the trial is due but has not been run


def test_trial_flow_window_then_trial_then_advance():
    cur = JSRLCurriculum([90, 60, 30, 0], window=3, trial_episodes=4, required_success=0.5)
    assert cur.horizons == [90, 60, 30, 0] and cur.n_stages == 4
    feed(cur, [True, True])
    assert not cur.trial_due and "training 2/3" in cur.status().reason
    feed(cur, [True])
    assert cur.trial_due and "trial of 4 begins" in cur.status().reason
    feed(cur, [True, False, False])
    assert cur.trial_due and cur.stage == 0 and "1/3 succeeded so far" in cur.status().reason
    feed(cur, [False])  # 1/4 = 25 % < 50 %: holds, training resumes
    assert not cur.trial_due and cur.stage == 0
    assert "holds" in cur.status().reason and "50%" in cur.status().reason
    train_then_trial(cur, [True, False, True, False])  # exactly 50 %: advances
    assert cur.stage == 1 and cur.horizon() == 60 and not cur.trial_due
    assert cur.status().reason.startswith("advanced to stage 1")
    assert cur.advances == [(14, 1)]
    train_then_trial(cur, [True] * 4)
    assert cur.stage == 2


def test_stochastic_episodes_during_a_trial_are_not_trial_episodes():
    cur = JSRLCurriculum([50, 0], window=1, trial_episodes=2, required_success=1.0)
    feed(cur, [False])
    assert cur.trial_due
    cur.update(result(50, True, deterministic=False))  # given out before the trial (a worker)
    assert cur.trial_due and cur.stage == 0 and "not counted" in cur.status().reason
    cur.update(result(50, True, deterministic=True))
    cur.update(result(50, True, deterministic=True))
    assert cur.final and cur.horizon() == 0


def test_a_trial_episode_after_its_trial_ended_is_not_counted():
    """Ray workers: episodes given out under a trial that ended meanwhile change nothing."""
    cur = JSRLCurriculum([50, 25, 0], window=2, trial_episodes=1, required_success=1.0)
    feed(cur, [False, False])
    cur.update(result(50, False, deterministic=True))  # the trial: holds
    assert not cur.trial_due and "holds" in cur.status().reason
    cur.update(result(50, True, deterministic=True))  # a second one, given out meanwhile
    assert not cur.trial_due and "not counted" in cur.status().reason
    assert cur.state_dict()["trained"] == 0
    cur.update(result(25, True, deterministic=False))  # another stage's h: not counted
    assert "not counted" in cur.status().reason and cur.stage == 0


def test_foreign_and_human_episodes_are_not_counted():
    cur = JSRLCurriculum([100, 50, 0], window=2, trial_episodes=1, required_success=0.5)
    cur.update(result(37, True))
    assert "not counted" in cur.status().reason
    cur.update(result(100, True, n_human=3))
    assert "human" in cur.status().reason
    feed(cur, [True, True])
    assert cur.trial_due
    cur.update(result(100, True, n_human=1, deterministic=True))  # no trial episode either
    assert cur.trial_due and cur.stage == 0
    feed(cur, [True])
    assert cur.stage == 1


def test_final_stage_is_h_zero_and_stays():
    cur = JSRLCurriculum([50, 0], window=1, trial_episodes=1, required_success=0.5)
    train_then_trial(cur, [True])
    assert cur.final and cur.horizon() == 0
    feed(cur, [True, False, True] * 5)
    assert cur.stage == 1 and not cur.trial_due and cur.status().reason.startswith("final")


def test_curriculum_rejects_bad_horizons_and_settings():
    with pytest.raises(ValueError, match="decrease strictly to 0"):
        JSRLCurriculum([50, 50, 0])
    with pytest.raises(ValueError, match="decrease strictly to 0"):
        JSRLCurriculum([50, 10])
    with pytest.raises(ValueError, match="window"):
        JSRLCurriculum([50, 0], window=0)
    with pytest.raises(ValueError, match="required_success"):
        JSRLCurriculum([50, 0], required_success=0.0)


def test_curriculum_state_dict_round_trip_mid_trial_continues_identically():
    rng = np.random.default_rng(3)
    outcomes = list(rng.random(200) < 0.7)
    hs = [110, 80, 50, 20, 0]
    a = JSRLCurriculum(hs, window=3, trial_episodes=4, required_success=0.5)
    cut = 0
    while not (a.trial_due and len(a.state_dict()["trial"]) == 2 and a.stage > 0):
        feed(a, [outcomes[cut]])
        cut += 1
    state = json.loads(json.dumps(a.state_dict()))  # plain values: fits JSON and checkpoints
    assert state["trial"] is not None and len(state["trial"]) == 2
    b = JSRLCurriculum([110, 55, 0], window=3, trial_episodes=4, required_success=0.5)
    b.load_state_dict(state)
    assert b.horizons == hs  # the saved stages win: they were placed at the start
    assert b.status() == a.status() and b.trial_due
    feed(a, outcomes[cut:])
    feed(b, outcomes[cut:])
    assert b.status() == a.status() and b.advances == a.advances
    assert a.stage > 1  # the sequence did advance after the cut
    with pytest.raises(ValueError, match="H1"):
        JSRLCurriculum([99, 0]).load_state_dict(state)


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
    stats = GuideStats(episodes=10, success_rate=0.5, mean_return=-170.0, h1=120)
    cfg = CurriculumConfig(stages="even", n_stages=5, window=3, trial_episodes=6, fixed_h=33)
    cur = make_curriculum("curriculum", stats, cfg)
    assert isinstance(cur, JSRLCurriculum) and cur.horizons[0] == 120 and cur.n_stages == 5
    assert (cur.window, cur.trial_episodes) == (3, 6)
    assert cur.alone_every == 2  # the default: one explorer-alone episode in two
    assert cur.required_success == pytest.approx(0.4)  # 0.8 x the guide's 50 %
    assert make_curriculum("random", stats, cfg).status().H1 == 120
    assert make_curriculum("none", None, cfg).horizon() == 0
    assert make_curriculum("fixed", None, cfg).horizon() == 33
    with pytest.raises(ValueError, match="stats"):
        make_curriculum("curriculum", None, cfg)


def test_required_success_is_relative_to_the_guide_with_a_floor_and_a_cap():
    cfg = CurriculumConfig(min_success_ratio=0.8, min_success=0.3)
    assert required_success(cfg, 0.9) == pytest.approx(0.72)
    assert required_success(cfg, 0.1) == pytest.approx(0.3)  # the floor
    assert required_success(cfg, None) == pytest.approx(0.3)
    assert required_success(CurriculumConfig(min_success_ratio=2.0), 0.9) == 1.0  # the cap


def test_given_h1_without_guide_measurements_still_needs_real_success():
    cur = make_curriculum(
        "curriculum",
        GuideStats(0, None, None, 60),
        CurriculumConfig(window=2, trial_episodes=5, alone_every=0),
    )
    assert cur.horizon() == 60 and cur.required_success == pytest.approx(0.3)
    for _ in range(5):
        train_then_trial(cur, [False] * 5)
    assert cur.stage == 0
    train_then_trial(cur, [True, False, True, False, False])  # 40 % >= 30 %
    assert cur.stage == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stages": "uneven"}, "--curriculum.stages must be phases or even: 'uneven'"),
        ({"n_stages": 1}, "--curriculum.n-stages must be >= 2, got 1"),
        ({"max_gap": 0}, "--curriculum.max-gap must be >= 1, got 0"),
        ({"window": 0}, "--curriculum.window must be >= 1, got 0"),
        ({"trial_episodes": 0}, "--curriculum.trial-episodes must be >= 1, got 0"),
        ({"min_success_ratio": -0.1}, "--curriculum.min-success-ratio must be >= 0, got -0.1"),
        ({"min_success": 0.0}, r"--curriculum.min-success must be in \(0, 1\], got 0.0"),
        ({"min_success": 1.5}, r"--curriculum.min-success must be in \(0, 1\], got 1.5"),
    ],
)
def test_curriculum_config_validation_names_the_option(kwargs, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        CurriculumConfig(**kwargs)


def test_a_short_h1_still_gives_a_two_stage_phase_curriculum():
    quick = EpisodeResult(0, 200, 200, -2.0, True, 3, 200, 0, 0, "t", 0,
                          open_steps=198, milestones=(1, 2, 2, 3, 3))  # fmt: skip
    stats = GuideStats(episodes=1, success_rate=1.0, mean_return=-2.0, h1=3)
    cur = make_curriculum("curriculum", stats, CurriculumConfig(), guide_results=[quick])
    assert cur.horizons[0] == 3 and cur.horizons[-1] == 0


def test_a_short_h1_with_even_stages_builds_a_curriculum():
    stats = GuideStats(episodes=0, success_rate=None, mean_return=None, h1=5)
    cur = make_curriculum("curriculum", stats, CurriculumConfig(stages="even", n_stages=10))
    assert cur.horizons[0] == 5 and cur.horizons[-1] == 0


def test_a_stage_where_the_guide_acts_throughout_can_still_advance(guide_results):
    from learner.explorer import Explorer
    from learner.sac import SACConfig

    env = sim.make_door()
    explorer = Explorer(sim.OBS_DIM, sim.ACT_DIM, SACConfig(hidden=16))
    runner = EpisodeRunner(env, make_guide("scripted", env, seed=0), explorer)
    cur = JSRLCurriculum([sim.EPISODE_STEPS, 100, 0], window=1, trial_episodes=1)
    for seed in range(3):
        cur.update(runner.run_episode(seed=seed, h=cur.horizon(), deterministic=cur.trial_due))
    assert cur.stage > 0  # the guide opens the door every time: its trial succeeded


def test_alone_every_interleaves_explorer_alone_episodes_that_do_not_count():
    c = JSRLCurriculum([50, 0], window=3, trial_episodes=1, required_success=0.5, alone_every=3)
    seen = []
    for _ in range(5):
        h = c.horizon()
        seen.append((h, c.trial_due))
        c.update(result(h, True, deterministic=c.trial_due))
    # training, training, alone (h=0, not counted), training, then the trial of 1: advances
    assert seen == [(50, False), (50, False), (0, False), (50, False), (50, True)]
    assert c.stage == 1 and c.final and c.horizon() == 0
    assert c.status().h == 0
    with pytest.raises(ValueError, match="alone_every"):
        JSRLCurriculum([50, 0], alone_every=1)
