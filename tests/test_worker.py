"""learner.worker.BackgroundWorker: rounds on request, one queued at most, errors re-raised."""

import threading

import pytest

from learner.worker import BackgroundWorker, WorkerError


def test_rounds_run_on_request_and_one_more_is_queued():
    gate, started, rounds = threading.Event(), threading.Event(), []

    def work():
        rounds.append(len(rounds))
        started.set()
        gate.wait(10)

    worker = BackgroundWorker("probe", work)
    assert not worker.busy and worker.wait(0.1)  # nothing asked yet
    worker.request()
    assert started.wait(10)
    for _ in range(3):  # while the first round runs: queued once, not three times
        worker.request()
    assert worker.busy and not worker.wait(0.05)
    gate.set()
    assert worker.wait(10) and rounds == [0, 1] and not worker.busy
    worker.request()
    assert worker.wait(10) and rounds == [0, 1, 2]
    worker.stop(5)
    worker.stop(5)  # idempotent
    worker.request()  # after stop: ignored
    assert worker.wait(1) and rounds == [0, 1, 2]


def test_an_error_is_kept_and_re_raised_with_its_traceback():
    def work():
        raise ValueError("bad data")

    worker = BackgroundWorker("probe", work)
    worker.request()
    with pytest.raises(WorkerError, match="probe failed: ValueError: bad data") as info:
        worker.wait(10)
    assert "Traceback" in str(info.value) and isinstance(info.value.__cause__, ValueError)
    assert worker.error_line == "ValueError: bad data" and not worker.busy
    with pytest.raises(WorkerError):
        worker.request()
    worker.stop(1)  # never raises


def test_nice_must_not_be_negative():
    with pytest.raises(ValueError, match="nice"):
        BackgroundWorker("probe", lambda: None, nice=-1)
