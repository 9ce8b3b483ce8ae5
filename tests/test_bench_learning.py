"""bench/learning.py's reading of a run: when ``h`` has reached 0."""

import pytest

from bench.learning import cpu_minutes_per_100k, evaluation_at, h_zero_at


def _episodes(hs: list[int]) -> list[dict[str, str]]:
    return [{"env_steps": str(200 * (i + 1)), "h": str(h)} for i, h in enumerate(hs)]


def test_h_reaches_zero_only_when_no_guided_episode_follows():
    # explorer-alone episodes (h = 0) in mid-curriculum do not count
    assert h_zero_at(_episodes([114, 0, 114, 0, 87, 0, 0, 0])) == 1200
    assert h_zero_at(_episodes([114, 0, 87])) is None  # still guided at the end
    assert h_zero_at(_episodes([0, 0])) == 200  # plain RL: from the first episode
    assert h_zero_at([]) is None


def test_the_evaluation_for_a_point_is_the_one_due_there():
    def curve(*steps):
        return [{"env_steps": s, "success_rate": s / 1e5} for s in steps]

    assert evaluation_at(curve(0, 25000, 50000), 50000, "success_rate") == 0.5
    # Shorter episodes (a roll-in, a retry): the evaluation falls due a few steps after 50k.
    assert evaluation_at(curve(0, 45086, 50173), 50000, "success_rate") == 0.50173
    assert evaluation_at(curve(0, 45086, 50273), 50000, "success_rate") == 0.45086  # not it
    assert evaluation_at(curve(0, 45086), 50000, "success_rate") is None  # not got there


def test_cpu_time_per_100k_is_the_slope_over_rows_that_log_it():
    def row(steps: int, cpu: str) -> dict[str, str]:
        return {"env_steps": str(steps), "cpu_s": cpu}

    # a run begun before the column: counted from the rows that have it (its resume on)
    rows = [row(200, ""), row(50_000, "10"), row(60_000, "130"), row(100_000, "610")]
    assert cpu_minutes_per_100k(rows) == pytest.approx(600 / 50_000 * 100_000 / 60)
    assert cpu_minutes_per_100k(rows[:2]) is None  # one row: no slope
    assert cpu_minutes_per_100k([]) is None
