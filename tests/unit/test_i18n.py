import re
from pathlib import Path

from campus import i18n

SRC = Path(i18n.__file__).resolve().parents[1]
MSGID = re.compile(r"""\bN?_\(\s*(?P<q>["'])(?P<text>(?:(?!(?P=q)).)+)(?P=q)\s*\)""")


def test_accept_language_picks_the_best_supported_language():
    assert i18n.negotiate("en-GB,en;q=0.9,fr;q=0.8") == "en"
    assert i18n.negotiate("de-DE,fr;q=0.5,en;q=0.4") == "fr"
    assert i18n.negotiate("de-DE") is None
    assert i18n.negotiate("en;q=0,fr;q=0.1") == "fr"
    assert i18n.negotiate(None) is None


def test_french_is_the_default_and_english_returns_the_message_id():
    assert i18n.gettext("Sign in") == "Se connecter"
    token = i18n.current_language.set("en")
    try:
        assert i18n.gettext("Sign in") == "Sign in"
    finally:
        i18n.current_language.reset(token)


def test_every_ui_message_has_a_french_translation():
    """Fails when a template or module uses a message the French catalogue lacks."""
    french = i18n.catalogue("fr")
    missing = set()
    for path in list(SRC.rglob("*.html")) + list(SRC.rglob("*.py")):
        for match in MSGID.finditer(path.read_text(encoding="utf-8")):
            if match.group("text") not in french:
                missing.add(f"{path.relative_to(SRC)}: {match.group('text')}")
    assert not missing, "untranslated:\n" + "\n".join(sorted(missing))


def test_catalogues_never_translate_the_same_message_two_ways():
    """Catalogues are merged; a message translated differently in two files would be random."""
    from babel.messages.pofile import read_po

    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for po in sorted((i18n.LOCALES / "fr").glob("*.po")):
        with po.open("rb") as handle:
            for message in read_po(handle, locale="fr"):
                if not message.id or not message.string:
                    continue
                if message.id in seen and seen[message.id][1] != message.string:
                    clashes.append(f"{message.id!r}: {seen[message.id]} vs {po.name}")
                seen.setdefault(message.id, (po.name, message.string))
    assert clashes == []
