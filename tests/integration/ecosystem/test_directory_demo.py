import datetime as dt
import hashlib
import re

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from campus.auth.models import Account, RoleGrant
from campus.ecosystem import demo_data
from campus.ecosystem.directory import service
from campus.ecosystem.directory.models import Membership, Organisation, OrganisationKind, Person
from campus.ecosystem.impact.models import ImpactRecord
from campus.site.models import metadata

REFERENCE = dt.date(2026, 11, 29)


def test_demo_campus_has_every_kind_admins_accounts_and_impact(db):
    with db.session() as session:
        summary = demo_data.generate(session, reference=REFERENCE, demo_password="demo-pass-123")
    assert summary.organisations == 150 and summary.people == 1600
    with db.session() as session:
        kinds = dict(
            session.execute(
                select(Organisation.kind, func.count()).group_by(Organisation.kind)
            ).all()
        )
        assert set(kinds) == {k.value for k in OrganisationKind}
        admins = session.scalar(
            select(func.count(func.distinct(Membership.organisation_id))).where(
                Membership.role == "admin"
            )
        )
        assert admins == 150
        no_password = session.scalar(
            select(func.count()).select_from(Account).where(Account.password_hash.is_(None))
        )
        assert no_password == 1600
        assert session.scalar(select(func.count()).select_from(ImpactRecord)) > 100
        diane = session.scalar(select(Account).where(Account.email == "dirigeante@startup.example"))
        startup = service.organisations_of_account(session, diane.id)[0]
        assert startup.kind == "startup"
        assert session.scalar(
            select(RoleGrant).where(
                RoleGrant.account_id == diane.id,
                RoleGrant.role == "org_admin",
                RoleGrant.scope_id == startup.id,
            )
        )
        result = service.search_directory(session, query="centre hospitalier")
        assert result.total == 10
        people = demo_data.pick_people(session, 5, seed=1)
        assert len(people) == 5 and all(p.account_id for p in people)
        assert demo_data.pick_people(session, 5, seed=1) == people
        hospitals = demo_data.pick_organisations(session, 3, kinds=("hospital",), seed=2)
        assert {o.kind for o in hospitals} == {"hospital"}


def _digest() -> str:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with Session(engine) as session:
        demo_data.generate(session, reference=REFERENCE)
        names = session.scalars(select(Organisation.name).order_by(Organisation.name)).all()
        people = session.scalars(
            select(Person.display_name + Person.job_title).order_by(Person.contact_email)
        ).all()
        amounts = session.scalars(
            select(ImpactRecord.amount).order_by(ImpactRecord.occurred_on, ImpactRecord.title)
        ).all()
    engine.dispose()
    return hashlib.sha256(repr((names, people, amounts)).encode()).hexdigest()


def test_the_same_seed_gives_the_same_campus():
    assert _digest() == _digest()


def test_the_demo_campus_reads_as_french_and_each_organisation_is_where_its_name_says():
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with Session(engine) as session:
        demo_data.generate(session, reference=REFERENCE)
        orgs = session.scalars(select(Organisation)).all()
        texts = [t for o in orgs for t in (o.name, o.summary_fr, o.description_html)]
        texts += session.scalars(select(ImpactRecord.title)).all()
        texts += session.scalars(select(Person.job_title)).all()
        places = [*demo_data.CITIES, *demo_data.TOWNS]
        for org in orgs:
            named = [p for p in places if org.name.endswith(f"de {p}") or f"d'{p}" in org.name]
            assert named in ([], [org.city]), (org.name, org.city)
        assert any(o.kind == "research_lab" and o.city == "Lyon" for o in orgs)
    engine.dispose()
    unelided = re.compile(r"\bde [aeiouyàâéèêëîïôöùûœh]", re.IGNORECASE)
    assert [t for t in texts if unelided.search(t)] == []
    assert not [t for t in texts if 'lang="en"' in t or "series" in t or "seed" in t]
    assert not [t for t in texts if re.search(r"\w :", t)]  # a non-breaking space before ":"
