import re
import threading

from sqlalchemy import func, select

from campus.errors import CampusError
from campus.participation import service, votes
from campus.participation.models import Participant, Support
from tests.integration.participation.helpers import (
    body,
    citizen,
    make_consultation,
    set_phase,
)


def _proposals(db, cid, author, count):
    ids = []
    with db.session() as session:
        consultation = service.get_consultation(session, cid)
        for i in range(count):
            proposal = service.create_proposal(
                session,
                _settings_stub(),
                author,
                consultation,
                title=f"Proposal number {i}",
                body=body(),
            )
            ids.append(proposal.id)
    return ids


def _settings_stub():
    from campus.settings import Settings

    return Settings(env="test", participation_proposals_per_hour=100)


def _voting(db, supports_per_person=2, proposals=3):
    cid = make_consultation(db, "contributions", supports_per_person=supports_per_person)
    author = citizen(db, "author@example.org")
    ids = _proposals(db, cid, author, proposals)
    set_phase(db, cid, "voting")
    return cid, ids


def test_supports_respect_the_phase_the_limit_and_can_be_changed(client, db):
    cid = make_consultation(db, "contributions", supports_per_person=2)
    author = citizen(db, "author@example.org")
    ids = _proposals(db, cid, author, 3)
    citizen(db, "voter@example.org")
    client.login("voter@example.org")
    url = f"/api/v1/consultations/{cid}/proposals/{{}}/support"
    early = client.put(url.format(ids[0]))
    assert early.status_code == 409 and early.json()["error"]["code"] == "wrong_phase"
    set_phase(db, cid, "voting")
    assert client.put(url.format(ids[0])).json() == {"supports": [ids[0]], "limit": 2, "left": 1}
    again = client.put(url.format(ids[0]))
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_supported"
    assert client.put(url.format(ids[1])).json()["left"] == 0
    over = client.put(url.format(ids[2]))
    assert over.status_code == 409 and over.json()["error"]["code"] == "support_limit"
    # change one's vote: withdraw, then support another
    assert client.delete(url.format(ids[0])).json()["left"] == 1
    assert client.put(url.format(ids[2])).json()["left"] == 0
    assert client.delete(url.format(ids[0])).status_code == 404
    set_phase(db, cid, "results")
    closed = client.delete(url.format(ids[1]))
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "wrong_phase"
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Support)) == 2


def test_the_support_button_on_the_page_adds_and_withdraws(client, db):
    cid, ids = _voting(db, supports_per_person=1)
    citizen(db, "voter@example.org")
    client.login("voter@example.org")
    page = client.get(f"/consultations/{cid}/proposals/{ids[0]}")
    assert "Soutiens restants\u00a0: 1 / 1" in page.text
    # Counts stay hidden until voting ends (docs/participation.md): the page says why and when.
    for shown in (page.text, client.get(f"/consultations/{cid}").text):
        assert "Les soutiens sont comptés en secret jusqu" in shown
        assert re.search(r"publié avec les résultats le \d{1,2} [a-zéû]+\.? 20\d\d à", shown)
    added = client.post(
        f"/consultations/{cid}/proposals/{ids[0]}/support",
        data={"action": "add"},
        follow_redirects=True,
    )
    assert "Soutiens restants\u00a0: 0 / 1" in added.text and "Retirer mon soutien" in added.text
    refused = client.post(
        f"/consultations/{cid}/proposals/{ids[1]}/support",
        data={"action": "add", "back": "consultation"},
    )
    assert refused.status_code == 409 and "vous avez utilisé vos 1 soutiens" in refused.text


def _fire(db, calls):
    """Run service calls from threads, each in its own session, all released at once."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(call):
        barrier.wait()
        try:
            with db.session() as session:
                call(session)
            result = "ok"
        except CampusError as error:
            result = error.code
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_concurrent_votes_keep_the_per_person_limit_and_exact_counts(db):
    cid, ids = _voting(db, supports_per_person=2, proposals=4)
    voter = citizen(db, "voter@example.org")
    others = [citizen(db, f"c{i}@example.org") for i in range(4)]

    def support(actor, proposal_id):
        def call(session):
            votes.support(session, actor, service.get_consultation(session, cid), proposal_id)

        return call

    # one person fires at four proposals and twice at the first: two supports only may land
    calls = [support(voter, pid) for pid in ids] + [support(voter, ids[0])]
    # four other people support the first proposal at the same time
    calls += [support(actor, ids[0]) for actor in others]
    outcomes = _fire(db, calls)
    assert outcomes.count("ok") == 2 + 4, outcomes
    assert set(outcomes) <= {"ok", "support_limit", "already_supported"}
    with db.session() as session:
        mine = session.scalar(select(func.count()).where(Support.account_id == voter.account_id))
        assert mine == 2
        counts = votes.counts(session, cid)
        assert sum(counts.values()) == 6
        voter_supports = set(
            votes.my_supports(session, service.get_consultation(session, cid), voter.account_id)
        )
        assert counts[ids[0]] == 4 + (1 if ids[0] in voter_supports else 0)
        participant = session.get(Participant, (cid, voter.account_id))
        assert participant.supports_used == 2
