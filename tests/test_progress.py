"""The training loop's progress lines: the ETA follows the current speed."""

from __future__ import annotations

import pytest

from pqrnn.training import trainer


class _Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = _Clock()
    monkeypatch.setattr(trainer.time, "perf_counter", fake)
    return fake


LOSSES = {"total": 1.0, "intent": 0.5, "slots": 0.5}


def test_the_eta_recovers_from_a_pause(clock):
    progress = trainer.Progress(total_steps=10_000, start_step=0, batch_size=128)
    step = 0
    for _ in range(5):  # 0.1 s per step
        clock.now += 5.0
        step += 50
        progress.log(step, 0, LOSSES)
    assert progress.eta_seconds(step) == pytest.approx((10_000 - step) * 0.1)
    clock.now += 600.0  # stopped for ten minutes (SIGSTOP, another job)
    clock.now += 5.0
    step += 50
    progress.log(step, 0, LOSSES)
    assert progress.eta_seconds(step) > 2 * (10_000 - step) * 0.1
    for _ in range(20):  # back to 0.1 s per step
        clock.now += 5.0
        step += 50
        progress.log(step, 0, LOSSES)
    # Within 10% of the true time left; the average since the start would
    # still count the pause (about 1.6 times too long here).
    assert progress.eta_seconds(step) == pytest.approx((10_000 - step) * 0.1, rel=0.1)
    since_start = (10_000 - step) * (clock.now - 100.0) / step
    assert since_start > 1.5 * (10_000 - step) * 0.1


def test_the_eta_is_zero_at_the_end_and_before_any_interval(clock):
    progress = trainer.Progress(total_steps=100, start_step=40, batch_size=8)
    assert progress.eta_seconds(40) == 0.0
    clock.now += 6.0
    progress.log(100, 0, LOSSES)
    assert progress.eta_seconds(100) == 0.0
    assert progress.examples_per_second == pytest.approx(60 * 8 / 6.0)


@pytest.mark.parametrize(
    "seconds, text",
    [
        (0, "00:00:00"),
        (59.6, "00:01:00"),
        (3_725, "01:02:05"),
        (2 * 86_400 + 11_225, "2d 03:07:05"),
    ],
)
def test_durations_keep_their_days(seconds, text):
    assert trainer.format_duration(seconds) == text
