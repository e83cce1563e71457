"""The main menu is rendered once per language, menu path and set of roles, then reused."""

import re

from campus.auth.actor import ANONYMOUS, Actor, Grant
from campus.i18n import current_language
from campus.web.templating import TEMPLATES, env, menu_path


def _menu(actor, path, lang="fr"):
    token = current_language.set(lang)
    try:
        return env.from_string("{{ main_menu() }}").render(actor=actor, path=path, lang=lang)
    finally:
        current_language.reset(token)


def test_every_menu_link_has_at_most_two_segments_so_the_cache_key_loses_nothing():
    source = (TEMPLATES / "_nav.html").read_text()
    targets = re.findall(r'"(/[^"]*)"', source)
    assert len(targets) > 15
    for target in targets:
        assert len(target.strip("/").split("/")) <= 2, target
        assert menu_path(target) == target.rstrip("/") or target == "/"


def test_the_menu_marks_the_current_section_on_deeper_pages():
    staff = Actor(account_id="a1", grants=frozenset({Grant("staff")}), via="session")
    html = _menu(staff, "/admin/audit/extra/deeper")
    assert re.search(r'<a href="/admin/audit" aria-current="page">', html)
    assert 'href="/events" aria-current' not in html


def test_the_menu_depends_on_roles_and_language_not_on_who_asks():
    anonymous = _menu(ANONYMOUS, "/events")
    staff = Actor(account_id="a1", grants=frozenset({Grant("staff")}), via="session")
    other_staff = Actor(account_id="a2", name="Other", grants=frozenset({Grant("staff")}))
    assert "/admin/audit" not in anonymous and "/admin/audit" in _menu(staff, "/events")
    assert _menu(staff, "/events") == _menu(other_staff, "/events")
    scoped = Actor(account_id="a3", grants=frozenset({Grant("staff", "organisation", "o1")}))
    assert _menu(scoped, "/events") != _menu(staff, "/events")  # a scoped grant is not global
    assert _menu(staff, "/events", "en") != _menu(staff, "/events", "fr")
