from campus.ecosystem.matchmaking.service import Party, explain, score
from campus.i18n import current_language


def party(name, expertise=(), needs=(), themes=()):
    return Party(
        "organisation",
        name.lower(),
        name,
        frozenset(expertise),
        frozenset(needs),
        frozenset(themes),
    )


def test_what_a_partner_brings_weighs_more_than_what_it_needs():
    source = party("Src", expertise={"machine_learning"}, needs={"clinical_trials"})
    brings = score(source, party("A", expertise={"clinical_trials"}))
    needs = score(source, party("B", needs={"machine_learning"}))
    nothing = score(source, party("C", expertise={"procurement"}))
    assert brings.score > needs.score > nothing.score == 0
    assert brings.gives == ("clinical_trials",) and needs.gets == ("machine_learning",)


def test_explanation_is_one_sentence_in_the_current_language():
    source = party(
        "Src", expertise={"machine_learning"}, needs={"clinical_trials"}, themes={"oncology"}
    )
    both = score(
        source,
        party(
            "Hôpital Nord",
            expertise={"clinical_trials"},
            needs={"machine_learning"},
            themes={"oncology"},
        ),
    )
    french = explain(both)
    assert french == (
        "Hôpital Nord apporte essais cliniques, dont vous avez besoin, et cherche "
        "apprentissage automatique, que vous proposez\u202f; vous partagez oncologie."
    )
    token = current_language.set("en")
    try:
        assert explain(both) == (
            "Hôpital Nord brings clinical trials, which you need, and needs machine learning, "
            "which you offer; you share oncology."
        )
    finally:
        current_language.reset(token)
