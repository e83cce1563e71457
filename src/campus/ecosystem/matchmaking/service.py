"""Partner suggestions from complementary expertise and needs, and introduction requests.

A candidate scores by what it brings that the source needs (most weight), what the source
brings that it needs, and shared themes. Each suggestion carries the codes behind its score,
so its one-sentence explanation is built from the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from campus.audit import service as audit
from campus.auth import mail
from campus.auth.actor import Actor
from campus.auth.models import Account
from campus.db.base import utcnow
from campus.db.engine import lock, write
from campus.ecosystem.directory.models import Membership, Organisation, OrgRole, Person
from campus.ecosystem.directory.vocabulary import SKILLS, THEMES, label
from campus.ecosystem.matchmaking.models import Introduction, IntroductionStatus
from campus.errors import BadRequest, Conflict, Forbidden, NotFound
from campus.i18n import N_
from campus.i18n import gettext as _
from campus.settings import Settings
from campus.text import one_line, refuse_control

GIVE_WEIGHT, GET_WEIGHT, THEME_WEIGHT = 0.6, 0.3, 0.1
PARTY_TYPES = ("organisation", "person")
MESSAGE_MAX = 1000


@dataclass(frozen=True)
class Party:
    """The side of a match: an organisation or a person, with what it offers and needs."""

    type: str
    id: str
    name: str
    expertise: frozenset[str]
    needs: frozenset[str]
    themes: frozenset[str] = field(default_factory=frozenset)
    slug: str = ""


@dataclass(frozen=True)
class Suggestion:
    target: Party
    score: float
    gives: tuple[str, ...]  # what the target brings that the source needs
    gets: tuple[str, ...]  # what the source brings that the target needs
    themes: tuple[str, ...]

    def explanation(self) -> str:
        return explain(self)

    def as_json(self) -> dict:
        return {
            "target_type": self.target.type,
            "target_id": self.target.id,
            "name": self.target.name,
            "score": self.score,
            "they_bring": list(self.gives),
            "they_need": list(self.gets),
            "shared_themes": list(self.themes),
            "explanation": self.explanation(),
        }


def score(source: Party, candidate: Party) -> Suggestion:
    gives = tuple(sorted(source.needs & candidate.expertise))
    gets = tuple(sorted(candidate.needs & source.expertise))
    themes = tuple(sorted(source.themes & candidate.themes))
    union = source.themes | candidate.themes
    value = (
        GIVE_WEIGHT * len(gives) / max(1, len(source.needs))
        + GET_WEIGHT * len(gets) / max(1, len(candidate.needs))
        + THEME_WEIGHT * len(themes) / max(1, len(union))
    )
    return Suggestion(candidate, round(value, 3), gives, gets, themes)


def _join(labels: list[str]) -> str:
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " " + _("and") + " " + labels[-1]


def explain(s: Suggestion) -> str:
    """One sentence in the current language saying why this partner is suggested."""
    gives = _join([label(SKILLS, c) for c in s.gives])
    gets = _join([label(SKILLS, c) for c in s.gets])
    themes = _join([label(THEMES, c) for c in s.themes])
    name = s.target.name
    if s.gives and s.gets:
        text = _("{name} brings {gives}, which you need, and needs {gets}, which you offer")
    elif s.gives:
        text = _("{name} brings {gives}, which you need")
    elif s.gets:
        text = _("{name} needs {gets}, which you offer")
    else:
        text = _("{name} works on the same themes as you")
    sentence = text.format(name=name, gives=gives, gets=gets)
    if s.themes and (s.gives or s.gets):
        sentence += _("; you share {themes}").format(themes=themes)
    elif s.themes:
        sentence += _(": {themes}").format(themes=themes)
    return sentence + "."


# --- parties ------------------------------------------------------------------------------------


def _org_party(org: Organisation) -> Party:
    return Party(
        "organisation",
        org.id,
        org.name,
        frozenset(org.expertise or []),
        frozenset(org.needs or []),
        frozenset(org.themes or []),
        org.slug,
    )


def _person_party(person: Person, themes: frozenset[str]) -> Party:
    return Party(
        "person",
        person.id,
        person.display_name,
        frozenset((person.expertise or []) + (person.competences or [])),
        frozenset(person.needs or []),
        themes,
    )


def _themes_of_people(session: Session, person_id: str | None = None) -> dict[str, frozenset[str]]:
    """The themes of each person's organisations (of one person when `person_id` is given)."""
    org_themes = {
        i: frozenset(t or [])
        for i, t in session.execute(select(Organisation.id, Organisation.themes))
    }
    query = select(Membership.person_id, Membership.organisation_id)
    if person_id is not None:
        query = query.where(Membership.person_id == person_id)
    themes: dict[str, frozenset[str]] = {}
    for pid, org_id in session.execute(query):
        themes[pid] = themes.get(pid, frozenset()) | org_themes.get(org_id, frozenset())
    return themes


def _own_person(session: Session, actor: Actor) -> Person | None:
    if not actor.account_id:
        return None
    return session.scalar(select(Person).where(Person.account_id == actor.account_id))


def _org_ids_of(session: Session, person: Person | None, *, admin: bool = False) -> set[str]:
    if person is None:
        return set()
    query = select(Membership.organisation_id).where(Membership.person_id == person.id)
    if admin:
        query = query.where(Membership.role == OrgRole.ADMIN)
    return set(session.scalars(query))


def party(session: Session, party_type: str, party_id: str, *, own: bool = False) -> Party:
    """An active organisation or a visible person. `own`: the caller checked that the actor
    acts for this side (a person who hid their profile still gets suggestions and may ask
    for an introduction themselves; nobody else finds them)."""
    if party_type == "organisation":
        org = session.get(Organisation, party_id)
        if org is None or not org.active:
            raise NotFound(N_("no such organisation"), code="not_found", where=party_id[:80])
        return _org_party(org)
    if party_type == "person":
        person = session.get(Person, party_id)
        if person is None or not (person.visible or own):
            raise NotFound(N_("no such person"), code="not_found", where=party_id[:80])
        themes = _themes_of_people(session, person.id).get(person.id, frozenset())
        return _person_party(person, themes)
    raise BadRequest(
        N_("a party is an organisation or a person"), code="invalid_party", where=party_type[:40]
    )


def _lock_parties(session: Session, *parties: Party) -> None:
    """Lock the rows of the parties (FOR UPDATE; SQLite's write lock), in a fixed order so
    that two requests locking the same pair cannot deadlock."""
    for party_type, party_id in sorted((p.type, p.id) for p in parties):
        model = Organisation if party_type == "organisation" else Person
        write(session, select(model.id).where(model.id == party_id).with_for_update())


def check_acts_for(session: Session, actor: Actor, source_type: str, source_id: str) -> None:
    """A member acts for their own profile and for the organisations they belong to."""
    person = _own_person(session, actor)
    if source_type == "person" and person is not None and person.id == source_id:
        return
    if source_type == "organisation" and (
        actor.is_staff or source_id in _org_ids_of(session, person)
    ):
        return
    raise Forbidden(
        N_("you can only ask on behalf of yourself or of an organisation you belong to"),
        code="not_your_party",
    )


# --- suggestions --------------------------------------------------------------------------------


def suggestions(
    session: Session, source_type: str, source_id: str, *, limit: int = 10
) -> list[Suggestion]:
    """The best partners for a source (one the caller acts for): organisations, and for a
    person also people whose profile is visible."""
    if not 1 <= limit <= 50:
        raise BadRequest(N_("limit is 1 to 50"), code="invalid_limit", where="limit")
    source = party(session, source_type, source_id, own=True)
    if not source.needs and not source.expertise:
        return []
    excluded = {source.id}
    if source_type == "person":
        excluded |= _org_ids_of(session, session.get(Person, source_id))
    org_rows = session.execute(
        select(
            Organisation.id,
            Organisation.name,
            Organisation.expertise,
            Organisation.needs,
            Organisation.themes,
            Organisation.slug,
        ).where(Organisation.active.is_(True))
    )
    candidates = [
        Party(
            "organisation",
            i,
            name,
            frozenset(e or []),
            frozenset(n or []),
            frozenset(t or []),
            slug,
        )
        for i, name, e, n, t, slug in org_rows
        if i not in excluded
    ]
    if source_type == "person":
        # Columns only: building 1,600 ORM objects would dominate the request.
        themes = _themes_of_people(session)
        person_rows = session.execute(
            select(
                Person.id, Person.display_name, Person.expertise, Person.competences, Person.needs
            ).where(Person.visible.is_(True))
        )
        candidates += [
            Party(
                "person",
                i,
                name,
                frozenset((e or []) + (c or [])),
                frozenset(n or []),
                themes.get(i, frozenset()),
            )
            for i, name, e, c, n in person_rows
            if i not in excluded and (e or c or n)
        ]
    useful = [
        score(source, c)
        for c in candidates
        if not (source.needs.isdisjoint(c.expertise) and source.expertise.isdisjoint(c.needs))
    ]
    useful.sort(key=lambda s: (-s.score, s.target.name, s.target.id))
    return useful[:limit]


# --- introductions ------------------------------------------------------------------------------


def _emails_of_side(session: Session, party_type: str, party_id: str) -> list[str]:
    """Where to mail one side: the person's account, or the organisation's admins."""
    if party_type == "person":
        query = select(Account.email).join(Person, Person.account_id == Account.id)
        return list(session.scalars(query.where(Person.id == party_id)))
    query = (
        select(Account.email)
        .join(Person, Person.account_id == Account.id)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.organisation_id == party_id, Membership.role == OrgRole.ADMIN)
    )
    emails = list(session.scalars(query))
    if not emails:
        org = session.get(Organisation, party_id)
        emails = [org.contact_email] if org is not None and org.contact_email else []
    return emails


def _between(source: Party, target: Party) -> Any:
    """Introductions asked by `source` of `target` (one direction)."""
    return (
        (Introduction.source_type == source.type)
        & (Introduction.source_id == source.id)
        & (Introduction.target_type == target.type)
        & (Introduction.target_id == target.id)
    )


def request_introduction(
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    source_type: str,
    source_id: str,
    target_type: str,
    target_id: str,
    message: str = "",
) -> Introduction:
    check_acts_for(session, actor, source_type, source_id)
    source = party(session, source_type, source_id, own=True)
    target = party(session, target_type, target_id)
    if (source.type, source.id) == (target.type, target.id):
        raise BadRequest(N_("you cannot ask to meet yourself"), code="same_party")
    message = refuse_control((message or "").strip(), "message")
    if len(message) > MESSAGE_MAX:
        raise BadRequest(
            N_("the message is too long: 1000 characters at most"),
            code="too_long",
            where="message",
        )
    # Two requests for the same pair at once: each locks both parties' rows, in one order,
    # before looking, so the second sees the first's request.
    _lock_parties(session, source, target)
    # The same pair in either direction: B asking A while A's request to B waits is a duplicate.
    open_one = session.scalars(
        select(Introduction)
        .where(
            or_(
                _between(source, target),
                _between(target, source),
            ),
            Introduction.status.in_([IntroductionStatus.PENDING, IntroductionStatus.ACCEPTED]),
        )
        .limit(1)
    ).first()
    if open_one is not None:
        asked_by_target = (open_one.source_type, open_one.source_id) == (target.type, target.id)
        if asked_by_target and open_one.status == IntroductionStatus.PENDING:
            raise Conflict(
                N_("this partner has already asked for an introduction: answer their request"),
                code="already_requested",
            )
        raise Conflict(
            N_("an introduction to this partner is already pending or accepted"),
            code="already_requested",
        )
    intro = Introduction(
        source_type=source.type,
        source_id=source.id,
        target_type=target.type,
        target_id=target.id,
        requested_by=actor.account_id or "",
        message=message,
        score=score(source, target).score,
    )
    session.add(intro)
    session.flush()
    link = f"{settings.base_url.rstrip('/')}/introductions"
    for email in _emails_of_side(session, target.type, target.id):
        mail.queue(
            session,
            settings,
            to=email,
            subject=one_line(
                f"Campus : {source.name} souhaite vous rencontrer / would like to meet you"
            ),
            body=(
                f"{source.name} demande une mise en relation. Répondez ici : {link}\n\n"
                f"{source.name} asks for an introduction. Answer here: {link}\n"
                + (f"\nMessage :\n{message}\n" if message else "")
            ),
        )
    audit.record(
        session,
        actor=actor.label,
        action="introduction.requested",
        object_type="introduction",
        object_id=intro.id,
        details={"source": f"{source.type}:{source.id}", "target": f"{target.type}:{target.id}"},
    )
    return intro


_ADMINISTERED = select(Membership.organisation_id).where(Membership.role == OrgRole.ADMIN)


def _may_answer(session: Session, actor: Actor, intro: Introduction) -> bool:
    """The target person; for an organisation, its admins, or campus staff when it has none
    (else its requests could never be answered)."""
    person = _own_person(session, actor)
    if intro.target_type == "person":
        return person is not None and person.id == intro.target_id
    if intro.target_id in _org_ids_of(session, person, admin=True):
        return True
    return actor.is_staff and _without_admin(session, intro.target_id)


def _without_admin(session: Session, organisation_id: str) -> bool:
    return (
        session.scalar(_ADMINISTERED.where(Membership.organisation_id == organisation_id).limit(1))
        is None
    )


def decide(
    session: Session, settings: Settings, actor: Actor, intro_id: str, *, accept: bool
) -> Introduction:
    intro = session.get(Introduction, intro_id)
    if intro is None:
        raise NotFound(N_("no such introduction request"), code="not_found", where=intro_id[:80])
    if not _may_answer(session, actor, intro):
        raise Forbidden(
            N_("only the person or the organisation's admins asked may answer"),
            code="not_the_other_side",
        )
    lock(session, intro)  # two admins answering at once: one answer
    if intro.status != IntroductionStatus.PENDING:
        raise Conflict(N_("this request was already answered"), code="already_answered")
    intro.status = IntroductionStatus.ACCEPTED if accept else IntroductionStatus.DECLINED
    intro.decided_at, intro.decided_by = utcnow(), actor.account_id
    source = party_name(session, intro.source_type, intro.source_id)
    target = party_name(session, intro.target_type, intro.target_id)
    requester = session.get(Account, intro.requested_by)
    if requester is not None:
        if accept:
            contacts = _contact_on_acceptance(session, actor, intro)
            body = (
                f"{target} accepte la mise en relation avec {source}. Contact : {contacts}\n\n"
                f"{target} accepted the introduction to {source}. Contact: {contacts}\n"
            )
        else:
            body = (
                f"{target} a décliné la mise en relation avec {source}.\n\n"
                f"{target} declined the introduction to {source}.\n"
            )
        mail.queue(
            session,
            settings,
            to=requester.email,
            subject="Campus : réponse à votre demande de mise en relation / introduction answer",
            body=body,
        )
    audit.record(
        session,
        actor=actor.label,
        action="introduction.accepted" if accept else "introduction.declined",
        object_type="introduction",
        object_id=intro.id,
    )
    return intro


def _contact_on_acceptance(session: Session, actor: Actor, intro: Introduction) -> str:
    """The address an accepted request gives the requester: the one the other side shows on
    its profile, else the address of whoever accepted (who gives it by accepting). Never the
    sign-in address of a person who set a contact address, nor other admins' addresses."""
    model = Person if intro.target_type == "person" else Organisation
    side = session.get(model, intro.target_id)
    if side is not None and side.contact_email:
        return side.contact_email
    account = session.get(Account, actor.account_id or "")
    return account.email if account is not None else ""


def party_name(session: Session, party_type: str, party_id: str) -> str:
    if party_type == "organisation":
        org = session.get(Organisation, party_id)
        return org.name if org else "?"
    person = session.get(Person, party_id)
    return person.display_name if person else "?"


def introductions_of(session: Session, actor: Actor) -> dict[str, list[Introduction]]:
    """Requests one sent, and requests sent to oneself or to organisations one administers
    (for staff, also to organisations without admins: staff answer them)."""
    sent = list(
        session.scalars(
            select(Introduction)
            .where(Introduction.requested_by == (actor.account_id or ""))
            .order_by(Introduction.created_at.desc())
        )
    )
    person = _own_person(session, actor)
    admin_of = _org_ids_of(session, person, admin=True)
    conditions = []
    if person is not None:
        conditions.append(
            (Introduction.target_type == "person") & (Introduction.target_id == person.id)
        )
    if admin_of:
        conditions.append(
            (Introduction.target_type == "organisation") & Introduction.target_id.in_(admin_of)
        )
    if actor.is_staff:
        conditions.append(
            (Introduction.target_type == "organisation")
            & Introduction.target_id.not_in(_ADMINISTERED)
        )
    received: list[Introduction] = []
    if conditions:
        received = list(
            session.scalars(
                select(Introduction)
                .where(or_(*conditions))
                .order_by(Introduction.created_at.desc())
            )
        )
    return {"sent": sent, "received": received}


def introduction_view(session: Session, intro: Introduction) -> dict:
    return {
        "id": intro.id,
        "source_type": intro.source_type,
        "source_id": intro.source_id,
        "source_name": party_name(session, intro.source_type, intro.source_id),
        "target_type": intro.target_type,
        "target_id": intro.target_id,
        "target_name": party_name(session, intro.target_type, intro.target_id),
        "message": intro.message,
        "score": intro.score,
        "status": intro.status,
        "created_at": intro.created_at.isoformat(),
        "decided_at": intro.decided_at.isoformat() if intro.decided_at else None,
    }


def own_person_id(session: Session, actor: Actor) -> str | None:
    person = _own_person(session, actor)
    return person.id if person else None


def member_of(session: Session, actor: Actor, organisation_id: str) -> bool:
    return actor.is_staff or organisation_id in _org_ids_of(session, _own_person(session, actor))
