import datetime as dt
from types import SimpleNamespace

from campus.participation.phases import Phase, phase_of, voting_ends

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def _consultation(closed_at=None):
    return SimpleNamespace(
        opens_at=T0,
        contributions_at=T0 + dt.timedelta(days=1),
        voting_at=T0 + dt.timedelta(days=2),
        results_at=T0 + dt.timedelta(days=3),
        closed_at=closed_at,
    )


def test_the_phase_follows_the_dates():
    c = _consultation()
    hour = dt.timedelta(hours=1)
    assert phase_of(c, T0 - hour) == Phase.UPCOMING
    assert phase_of(c, T0) == Phase.INFORMATION
    assert phase_of(c, T0 + dt.timedelta(days=1)) == Phase.CONTRIBUTIONS
    assert phase_of(c, T0 + dt.timedelta(days=2, hours=5)) == Phase.VOTING
    assert phase_of(c, T0 + dt.timedelta(days=3)) == Phase.RESULTS


def test_an_early_close_jumps_to_the_results():
    closed = T0 + dt.timedelta(days=2, hours=1)
    c = _consultation(closed_at=closed)
    assert phase_of(c, closed - dt.timedelta(minutes=1)) == Phase.VOTING
    assert phase_of(c, closed) == Phase.RESULTS
    assert voting_ends(c) == closed
    assert voting_ends(_consultation()) == T0 + dt.timedelta(days=3)
