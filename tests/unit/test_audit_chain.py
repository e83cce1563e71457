import datetime as dt

from campus.audit.chain import GENESIS, event_hash

AT = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def _hash(**changes):
    fields = dict(
        seq=1,
        at=AT,
        actor="a",
        action="x",
        object_type="t",
        object_id="1",
        details={"k": 1},
        prev_hash=GENESIS,
    )
    fields.update(changes)
    return event_hash(**fields)


def test_hash_is_stable_and_depends_on_every_field():
    base = _hash()
    assert base == _hash()
    assert len(base) == 64
    for change in [
        dict(seq=2),
        dict(actor="b"),
        dict(action="y"),
        dict(object_id="2"),
        dict(details={"k": 2}),
        dict(prev_hash="1" * 64),
        dict(at=AT + dt.timedelta(microseconds=1)),
    ]:
        assert _hash(**change) != base, change


def test_hash_ignores_the_time_zone_of_the_same_instant():
    paris = dt.timezone(dt.timedelta(hours=1))
    assert _hash(at=AT.astimezone(paris)) == _hash()
