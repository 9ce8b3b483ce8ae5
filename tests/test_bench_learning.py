"""bench/learning.py's reading of a run: when ``h`` has reached 0."""

from bench.learning import evaluation_at, h_zero_at


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
