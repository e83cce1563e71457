"""form_route's page= refuses at import what it could not render again: a function that is no
twin's data function, a page whose data function needs a value the form's handler does not
take, a form with neither template nor page, query= without a page."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from campus.auth.actor import Actor
from campus.web import forms, pages_registry, twins
from campus.web.deps import allow, db_session
from campus.web.forms import form_route
from campus.web.twins import twin


class Note(BaseModel):
    text: str


@pytest.fixture(autouse=True)
def _own_registries(monkeypatch):
    """Pages mounted here stay out of the app's registries (the twin tests walk them)."""
    monkeypatch.setattr(twins, "TWIN_PAGES", {})
    monkeypatch.setattr(forms, "FORM_PAGES", {})
    monkeypatch.setattr(pages_registry, "TWINS", {})


def _page(**query_default):
    api, pages = APIRouter(prefix="/notes"), APIRouter()

    if query_default:

        @twin(api, pages, "/notes/{note_id}", template="t.html", summary="A note")
        def note(
            note_id: str,
            order: str = Query("new"),
            actor: Actor = allow("public.read"),
            session: Session = db_session,
        ) -> dict:
            return {}

    else:

        @twin(api, pages, "/notes/{note_id}", template="t.html", summary="A note")
        def note(  # type: ignore[misc]
            note_id: str,
            order: str = "new",
            actor: Actor = allow("public.read"),
            session: Session = db_session,
        ) -> dict:
            return {}

    return pages, note


def test_a_form_names_the_page_it_shows_again_and_takes_its_template():
    pages, note = _page()

    @form_route(pages, "/notes/{note_id}/edit", model=Note, page=note)
    def edit(body: Note, note_id: str, actor: Actor = allow("public.read"),
             session: Session = db_session) -> str:  # fmt: skip
        return "/"

    assert forms.FORM_PAGES == {"/notes/{note_id}/edit": "/notes/{note_id}"}
    assert note.twin_page.template == "t.html"


def test_a_page_that_is_no_twin_is_refused():
    pages = APIRouter()

    def plain(session: Session = db_session) -> dict:
        return {}

    with pytest.raises(TypeError, match="decorated by twin"):
        form_route(pages, "/x", model=Note, page=plain)


def test_a_page_needing_a_path_value_the_form_lacks_is_refused():
    pages, note = _page()
    with pytest.raises(TypeError, match="needs `note_id`"):

        @form_route(pages, "/notes/new", model=Note, page=note)
        def create(body: Note, actor: Actor = allow("public.read"),
                   session: Session = db_session) -> str:  # fmt: skip
            return "/"


def test_a_page_needing_the_reader_when_the_form_takes_none_is_refused():
    pages, note = _page()
    with pytest.raises(TypeError, match="needs `actor`"):

        @form_route(pages, "/notes/{note_id}/edit", model=Note, page=note)
        def edit(body: Note, note_id: str, session: Session = db_session) -> str:
            return "/"


def test_a_page_whose_query_default_is_fastapis_is_refused():
    pages, note = _page(query_default=True)
    with pytest.raises(TypeError, match="needs `order`"):

        @form_route(pages, "/notes/{note_id}/edit", model=Note, page=note)
        def edit(body: Note, note_id: str, actor: Actor = allow("public.read"),
                 session: Session = db_session) -> str:  # fmt: skip
            return "/"


def test_a_form_without_template_or_page_and_query_without_page_are_refused():
    pages = APIRouter()
    with pytest.raises(TypeError, match="give the template"):
        form_route(pages, "/x", model=Note)
    with pytest.raises(TypeError, match="give page="):
        form_route(pages, "/x", model=Note, template="t.html", query=lambda values: {})
