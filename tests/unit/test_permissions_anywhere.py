"""A permission defined `anywhere` counts a role in any scope; the others, only in theirs."""

from campus.auth import policy
from campus.auth.actor import Actor, Grant


def _researcher_of(project: str) -> Actor:
    return Actor(
        account_id="a1", via="session", grants=frozenset({Grant("researcher", "project", project)})
    )


def test_a_researcher_of_one_project_may_use_every_dummy_twin():
    actor = _researcher_of("p1")
    assert policy.get("dummy.use").allows(actor)
    assert policy.get("catalogue.read").allows(actor)


def test_a_scoped_role_does_not_reach_other_scopes_of_a_scoped_permission():
    steward = Actor(
        account_id="a2",
        via="session",
        grants=frozenset({Grant("data_steward", "organisation", "org-a")}),
    )
    ingest = policy.get("dataset.ingest")
    assert ingest.allows(steward, "organisation", "org-a")
    assert not ingest.allows(steward, "organisation", "org-b")
    assert not ingest.allows(steward)
