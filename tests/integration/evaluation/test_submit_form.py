"""The submission form (a page, parsed into the same rules as the API): an uploaded ONNX file
is checked and scored on the dummy twin, then the browser goes to the submission's page; a
refusal shows the form again with its reason and what was typed, and queues nothing."""

from __future__ import annotations

import re

import pytest

from campus.evaluation import service
from tests.integration.evaluation import onnx_models
from tests.integration.evaluation.test_evaluation import BIAS, CARD, WEIGHTS, bench  # noqa: F401


def _form(client, **changes) -> dict:
    fields = {
        "csrf_token": client.csrf(),
        "family": "lr",
        "threshold": "0,3",  # a decimal comma, as typed in French
        **{f"card_{name}": value for name, value in CARD.items()},
    }
    return {**fields, **changes}


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_model_submitted_by_the_form_is_scored_on_the_dummy_twin_and_queued(
    client,
    db,
    settings,
    bench,  # noqa: F811
):
    client.login("outsider@example.org")
    form = client.get(f"/benchmarks/{bench['id']}/submit", headers={"accept-language": "fr"})
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    assert "Soumettre un modèle" in form.text
    sent = client.post(
        f"/benchmarks/{bench['id']}/submit",
        data=_form(client),
        files={"file": ("model.onnx", onnx_models.logistic(WEIGHTS, BIAS), "application/onnx")},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text[-2000:]
    sid = sent.headers["location"].rsplit("/", 1)[1]
    mine = client.get(f"/api/v1/submissions/{sid}").json()
    assert mine["status"] == "queued" and mine["threshold"] == pytest.approx(0.3)
    assert CARD.items() <= mine["card"].items()
    assert mine["dummy_metrics"]["metrics"]["auroc"]["value"]
    page = client.get(sent.headers["location"])
    assert 'data-chart="roc"' in page.text  # the dummy twin's chart


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_refused_model_shows_the_form_again_with_its_reason_and_queues_nothing(
    client,
    db,
    settings,
    bench,  # noqa: F811
):
    client.login("outsider@example.org")
    url = f"/benchmarks/{bench['id']}/submit"
    custom = client.post(
        url,
        data=_form(client, family="mine"),
        files={"file": ("m.onnx", onnx_models.custom_domain(), "application/onnx")},
    )
    assert custom.status_code == 400
    assert 'role="alert"' in custom.text and 'value="mine"' in custom.text
    no_file = client.post(url, data=_form(client))
    assert no_file.status_code == 400 and 'id="file"' in no_file.text
    bad_threshold = client.post(
        url,
        data=_form(client, threshold="2"),
        files={"file": ("m.onnx", onnx_models.logistic(WEIGHTS, BIAS), "application/onnx")},
    )
    assert bad_threshold.status_code == 400 and 'aria-invalid="true"' in bad_threshold.text
    assert service.work_once(db, settings) is None  # nothing was queued
    client.delete("/api/v1/session")
    anonymous = client.get(url, follow_redirects=False)
    assert anonymous.status_code in (302, 303) and anonymous.headers["location"].startswith(
        "/login"
    )


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_the_model_checks_refusals_read_in_french_with_their_values_and_in_english_on_request(
    client,
    db,
    settings,
    bench,  # noqa: F811
):
    """Each refusal of the model check and of the dummy run, on the form page: French by
    default (the values in it, French spacing before ';' and ':'), English when asked."""
    import html

    client.login("outsider@example.org")
    url = f"/benchmarks/{bench['id']}/submit"

    def refusal(model: bytes, language: str = "fr") -> str:
        page = client.post(
            url,
            data=_form(client),
            files={"file": ("m.onnx", model, "application/onnx")},
            headers={"accept-language": language},
        )
        assert page.status_code == 400, page.text[-1000:]
        (shown,) = re.findall(r'<div[^>]*id="form-error">(.*?)</div>', page.text, re.DOTALL)
        return html.unescape(shown)

    nb, narrow = "\u00a0", "\u202f"
    assert refusal(onnx_models.custom_domain()) == (
        f"le domaine d'opérateurs «{nb}com.evil{nb}» n'est pas admis (les opérateurs sur mesure "
        f"sont refusés{narrow}; domaines admis{nb}: ai.onnx, ai.onnx.ml)"
    )
    assert refusal(onnx_models.wrong_width()) == (
        f"l'entrée «{nb}features{nb}» a la forme [N, 2]{narrow}; la table des variables du banc "
        "est [N, 3] (une première dimension dynamique, 3 variables)"
    )
    big = onnx_models.logistic(WEIGHTS, BIAS, pad=50_000)
    limit = bench["limits"]["max_model_bytes"]  # 100,000 in this benchmark
    assert refusal(big) == (
        f"le modèle fait {len(big):,} octets{narrow}; ce banc d'évaluation en accepte au plus "
        f"{limit:,}".replace(",", narrow)
    )
    assert refusal(b"not a model") == "le fichier n'est pas un modèle ONNX (il ne peut pas être lu)"
    assert refusal(onnx_models.nan_above(0, -1.0)) == (
        f"sur le jumeau fictif{nb}: la sortie du modèle contient des valeurs NaN ou infinies"
    )
    assert refusal(onnx_models.custom_domain(), "en") == (
        "operator domain 'com.evil' is not allowed (custom operators are refused; "
        "allowed: ai.onnx, ai.onnx.ml)"
    )
    assert refusal(onnx_models.nan_above(0, -1.0), "en") == (
        "on the dummy twin: the model's output holds NaN or infinite values"
    )
    assert service.work_once(db, settings) is None  # nothing was queued
