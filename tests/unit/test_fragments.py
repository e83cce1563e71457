from markupsafe import Markup

from campus.web.fragments import FragmentCache


def test_a_fragment_is_rendered_once_per_key_and_version():
    cache = FragmentCache(size=8)
    calls = []

    def render():
        calls.append(1)
        return Markup("<p>x</p>")

    assert cache.get("k", ("db", 1), render) == Markup("<p>x</p>")
    cache.get("k", ("db", 1), render)
    assert len(calls) == 1 and cache.renders == 1
    cache.get("k", ("db", 2), render)  # the data moved on
    cache.get("k", ("other-db", 1), render)  # another database
    assert len(calls) == 3


def test_the_cache_keeps_the_most_recently_used_fragments_within_its_size():
    cache = FragmentCache(size=2)
    for key in ("a", "b"):
        cache.get(key, 1, lambda: Markup(""))
    cache.get("a", 1, lambda: Markup(""))  # a is now the most recent
    cache.get("c", 1, lambda: Markup(""))  # b goes
    renders = cache.renders
    cache.get("a", 1, lambda: Markup(""))
    assert cache.renders == renders
    cache.get("b", 1, lambda: Markup(""))
    assert cache.renders == renders + 1
