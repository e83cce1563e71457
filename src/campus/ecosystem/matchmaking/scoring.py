"""How well two parties match, and the sentence that says why."""

from __future__ import annotations

from dataclasses import dataclass, field

from campus.ecosystem.directory.vocabulary import SKILLS, THEMES, label
from campus.i18n import gettext as _

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
