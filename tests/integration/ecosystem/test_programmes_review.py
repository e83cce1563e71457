"""Programmes: applying, reviewing with a grid, conflicts of interest, decisions, cohort."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from campus.auth.models import OutboxMail
from campus.db.base import utcnow
from campus.ecosystem.programmes import service
from campus.ecosystem.programmes.models import ProgrammeApplication
from campus.errors import BadRequest, Conflict, Forbidden
from tests.integration.ecosystem.events_helpers import member, staff
from tests.integration.ecosystem.programmes_helpers import (
    member_of,
    organisation,
    programme_with_call,
)

ANSWERS = {"pitch": "Nous aidons les patients", "team": "12", "stage": "seed"}


def _applied(db, admin, call_id, org_id):
    with db.session() as session:
        return service.apply(session, admin, call_id, org_id, ANSWERS).id


def test_an_org_admin_applies_once_with_checked_answers(db, settings):
    boss = staff(db)
    org_id, admin = organisation(db, "medtech", "admin@medtech.example")
    _programme_id, call_id = programme_with_call(db, boss)
    application_id = _applied(db, admin, call_id, org_id)
    with db.session() as session:
        stored = session.get(ProgrammeApplication, application_id)
        assert stored.answers == {"pitch": "Nous aidons les patients", "team": 12, "stage": "seed"}
    with pytest.raises(Conflict), db.session() as session:
        service.apply(session, admin, call_id, org_id, ANSWERS)


@pytest.mark.parametrize(
    "answers, where",
    [
        ({"team": 3}, "answers.pitch"),
        ({**ANSWERS, "team": "beaucoup"}, "answers.team"),
        ({**ANSWERS, "team": 0}, "answers.team"),
        ({**ANSWERS, "stage": "IPO"}, "answers.stage"),
        ({**ANSWERS, "extra": "x"}, "answers.extra"),
        ({**ANSWERS, "pitch": ["list"]}, "answers.pitch"),
    ],
)
def test_bad_answers_are_refused_with_the_question_and_nothing_is_stored(
    db, settings, answers, where
):
    boss = staff(db)
    org_id, admin = organisation(db, "medtech", "admin@medtech.example")
    _programme_id, call_id = programme_with_call(db, boss)
    with pytest.raises(BadRequest) as refused, db.session() as session:
        service.apply(session, admin, call_id, org_id, answers)
    assert refused.value.where == where
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ProgrammeApplication)) == 0


def test_only_the_org_admin_applies_and_only_while_the_call_is_open(db, settings):
    boss = staff(db)
    org_id, admin = organisation(db, "medtech", "admin@medtech.example")
    other_org, _ = organisation(db, "labo", "admin@labo.example")
    _programme_id, call_id = programme_with_call(db, boss)
    with pytest.raises(Forbidden), db.session() as session:
        service.apply(session, admin, call_id, other_org, ANSWERS)
    later = utcnow() + dt.timedelta(days=30)
    with pytest.raises(Conflict) as closed, db.session() as session:
        service.apply(session, admin, call_id, org_id, ANSWERS, now=later)
    assert closed.value.code == "call_closed"


def test_a_reviewer_from_the_applying_organisation_is_refused(db, settings):
    boss = staff(db)
    org_id, admin = organisation(db, "medtech", "admin@medtech.example")
    colleague = member_of(db, org_id, "colleague@medtech.example")
    _programme_id, call_id = programme_with_call(db, boss)
    application_id = _applied(db, admin, call_id, org_id)
    for insider in (colleague, admin):
        with pytest.raises(Forbidden) as refused, db.session() as session:
            service.assign_reviewer(session, settings, boss, application_id, insider.account_id)
        assert refused.value.code == "conflict_of_interest"


def test_reviewers_see_others_scores_only_after_submitting_their_own(db, settings):
    boss = staff(db)
    org_id, admin = organisation(db, "medtech", "admin@medtech.example")
    _programme_id, call_id = programme_with_call(db, boss)
    application_id = _applied(db, admin, call_id, org_id)
    ana, bob = member(db, "ana@example.org"), member(db, "bob@example.org")
    with db.session() as session:
        for reviewer in (ana, bob):
            service.assign_reviewer(session, settings, boss, application_id, reviewer.account_id)
        service.submit_review(session, ana, application_id, {"impact": 5, "team": 2}, "Solide")
    with db.session() as session:
        before = service.application_view(session, bob, application_id)
        assert [r["reviewer_id"] for r in before["reviews"]] == [bob.account_id]
        assert before["average"] is None and before["reviews_submitted"] is None
        service.submit_review(session, bob, application_id, {"impact": 3, "team": 3}, "")
        after = service.application_view(session, bob, application_id)
        assert len(after["reviews"]) == 2
        assert after["average"] == round((4.0 + 3.0) / 2, 2)  # (5*2+2)/3 = 4, (3*2+3)/3 = 3
        applicant = service.application_view(session, admin, application_id)
        assert applicant["reviews"] == [] and applicant["average"] is None
    with pytest.raises(Conflict), db.session() as session:
        service.submit_review(session, ana, application_id, {"impact": 1, "team": 1})


def test_a_staff_reviewer_is_blind_too_until_their_own_review_is_submitted(db, settings):
    boss = staff(db)
    org_id, admin = organisation(db, "medtech", "admin@medtech.example")
    _programme_id, call_id = programme_with_call(db, boss)
    application_id = _applied(db, admin, call_id, org_id)
    ana, colleague = member(db, "ana@example.org"), staff(db, "colleague@campus.example")
    with db.session() as session:
        for reviewer in (ana, colleague):
            service.assign_reviewer(session, settings, boss, application_id, reviewer.account_id)
        service.submit_review(session, ana, application_id, {"impact": 5, "team": 2}, "Solide")
    with db.session() as session:
        view = service.application_view(session, colleague, application_id)
        assert [r["reviewer_id"] for r in view["reviews"]] == [colleague.account_id]
        assert view["average"] is None and view["reviews_submitted"] is None
        applications = service.applications_of_call(session, colleague, call_id)
        listed = service.average_scores(session, colleague, applications)[application_id]
        assert listed == {"assigned": 2, "submitted": None, "average": None}
        # A staff member who does not review this application manages it and sees it all.
        managed = service.average_scores(session, boss, applications)[application_id]
        assert managed == {"assigned": 2, "submitted": 1, "average": 4.0}
        service.submit_review(session, colleague, application_id, {"impact": 3, "team": 3}, "")
        assert service.application_view(session, colleague, application_id)["average"] == 3.5


@pytest.mark.parametrize(
    "scores, where",
    [({"impact": 6, "team": 1}, "scores.impact"), ({"impact": 3}, "scores.team")],
)
def test_scores_outside_the_grid_are_refused(db, settings, scores, where):
    boss = staff(db)
    org_id, admin = organisation(db, "medtech", "admin@medtech.example")
    _programme_id, call_id = programme_with_call(db, boss)
    application_id = _applied(db, admin, call_id, org_id)
    ana = member(db, "ana@example.org")
    with db.session() as session:
        service.assign_reviewer(session, settings, boss, application_id, ana.account_id)
    with pytest.raises(BadRequest) as refused, db.session() as session:
        service.submit_review(session, ana, application_id, scores)
    assert refused.value.where == where
    stranger = member(db, "zoe@example.org")
    with pytest.raises(Forbidden), db.session() as session:
        service.submit_review(session, stranger, application_id, {"impact": 1, "team": 1})


def test_a_decision_mails_the_organisation_and_fills_the_cohort(db, settings):
    boss = staff(db)
    org_id, admin = organisation(db, "medtech", "admin@medtech.example")
    other_org, other_admin = organisation(db, "labo", "admin@labo.example")
    programme_id, call_id = programme_with_call(db, boss)
    selected = _applied(db, admin, call_id, org_id)
    rejected = _applied(db, other_admin, call_id, other_org)
    with db.session() as session:
        service.decide(session, settings, boss, selected, "selected", "Bienvenue")
        service.decide(session, settings, boss, rejected, "rejected")
    with db.session() as session:
        mails = {m.to: m.subject for m in session.scalars(select(OutboxMail))}
        assert mails == {
            "admin@medtech.example": "Votre candidature est retenue",
            "admin@labo.example": "Votre candidature n'est pas retenue",
        }
        assert [c["name"] for c in service.cohort(session, programme_id)] == ["Medtech"]
    with pytest.raises(Conflict), db.session() as session:
        service.decide(session, settings, boss, selected, "rejected")


@pytest.mark.parametrize(
    "fields, criteria, where",
    [
        (
            [{"key": "A b", "label": "x", "type": "text"}],
            [{"key": "a", "label": "a"}],
            "form_fields[0].key",
        ),
        (
            [{"key": "a", "label": "x", "type": "file"}],
            [{"key": "a", "label": "a"}],
            "form_fields[0].type",
        ),
        (
            [{"key": "a", "label": "x", "type": "choice"}],
            [{"key": "a", "label": "a"}],
            "form_fields[0].choices",
        ),
        ([], [], "criteria"),
        ([], [{"key": "a", "label": "a", "weight": -1}], "criteria[0].weight"),
    ],
)
def test_bad_call_definitions_are_refused(db, settings, fields, criteria, where):
    boss = staff(db)
    with db.session() as session:
        programme = service.create_programme(
            session, boss, service.ProgrammeInput(slug="p", kind="research", title_fr="P")
        )
        programme_id = programme.id
    with pytest.raises(BadRequest) as refused, db.session() as session:
        service.create_call(
            session,
            boss,
            programme_id,
            service.CallInput(
                title="C",
                opens_at=utcnow(),
                closes_at=utcnow() + dt.timedelta(days=3),
                form_fields=fields,
                criteria=criteria,
            ),
        )
    assert refused.value.where == where
