from campus.ecosystem.directory import search
from campus.ecosystem.directory.service import sanitise_rich_text, slugify, sniff_image


def test_fold_removes_accents_case_ligatures_and_punctuation():
    assert search.fold("Hôpital Saint-Étienne, Cœur!") == "hopital saint etienne coeur"


def test_tokens_fold_french_and_english_plurals():
    assert search.tokens("Hôpitaux") == ["hopita"]
    assert search.tokens("startups  diabetes") == ["startup", "diabete"]
    assert search.tokens("100% IA") == ["100", "ia"]


def test_tokens_cannot_carry_like_wildcards():
    assert search.tokens("%_a%") == ["a"]


def test_rich_text_keeps_formatting_and_drops_scripts_and_handlers():
    html = '<p onclick="x()">Hi <strong>there</strong><script>alert(1)</script></p>'
    html += '<a href="javascript:alert(1)">x</a>'
    cleaned = sanitise_rich_text(html)
    assert "<strong>there</strong>" in cleaned
    assert "script" not in cleaned and "onclick" not in cleaned and "javascript" not in cleaned


def test_images_are_recognised_by_their_bytes_not_their_name():
    assert sniff_image(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert sniff_image(b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert sniff_image(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_image(b"<svg onload=alert(1)>") is None
    assert sniff_image(b"GIF89a") is None


def test_slugs_are_ascii():
    assert slugify("Clinique de l'Œil — Lyon") == "clinique-de-l-oeil-lyon"
