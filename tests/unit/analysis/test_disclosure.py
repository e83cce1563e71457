import pytest

from campus.analysis.disclosure import ALL, complete_grid, protect, round_to, with_margins


def _recomputable(published, full):
    """Keys whose hidden value can be derived from one line of visible cells and its total."""
    width = len(next(iter(full)))
    found = set()
    for d in range(width):
        lines = {}
        for key in full:
            lines.setdefault(key[:d] + key[d + 1 :], []).append(key)
        for members in lines.values():
            hidden = [k for k in members if published[k] is None]
            if len(hidden) == 1:
                found.add(hidden[0])
    return found


def test_rounding_goes_to_the_nearest_multiple_of_the_base():
    assert [round_to(v, 5) for v in (0, 2, 3, 7, 8, 12, 12.5, 1234)] == [
        0,
        0,
        5,
        5,
        10,
        10,
        15,
        1235,
    ]
    assert round_to(7, 1) == 7


def test_a_lone_small_cell_in_a_one_way_table_is_protected_by_a_second_one():
    cells = {("female",): 40, ("male",): 35, ("other",): 3}
    published, report = protect(cells, threshold=10, base=1)
    assert published[("other",)] is None
    # Naively hiding only "other" would leave 78 - 40 - 35 = 3: the next smallest goes too.
    assert published[("male",)] is None
    assert published[("female",)] == 40 and published[(ALL,)] == 78
    assert report.primary == 1 and report.secondary == 1


def test_no_suppressed_cell_of_a_cross_table_can_be_recomputed_from_its_margins():
    cells = {
        ("a", "x"): 50,
        ("a", "y"): 4,
        ("a", "z"): 30,
        ("b", "x"): 45,
        ("b", "y"): 25,
        ("b", "z"): 33,
        ("c", "x"): 60,
        ("c", "y"): 22,
        ("c", "z"): 2,
    }
    published, report = protect(cells, threshold=10, base=1)
    full = with_margins(complete_grid(cells))
    assert published[("a", "y")] is None and published[("c", "z")] is None
    assert report.secondary >= 2
    assert _recomputable(published, full) == set()


def test_small_totals_are_suppressed_and_cannot_be_recomputed_either():
    cells = {("a", "x"): 3, ("a", "y"): 4, ("b", "x"): 40, ("b", "y"): 50}
    published, _ = protect(cells, threshold=10, base=1)
    full = with_margins(complete_grid(cells))
    assert published[("a", ALL)] is None
    assert _recomputable(published, full) == set()


def test_visible_counts_are_rounded_and_missing_combinations_count_as_zero():
    cells = {("a", "x"): 12, ("b", "y"): 23}
    published, report = protect(cells, threshold=10, base=5)
    assert published[("a", "y")] == 0
    assert published[("a", "x")] == 10 and published[("b", "y")] == 25
    assert published[(ALL, ALL)] == 35
    assert "rounded" in " ".join(report.notes)


def test_a_grid_that_would_explode_is_refused():
    cells = {(i, j, k): 1 for i in range(30) for j in range(30) for k in range(30)}
    with pytest.raises(ValueError, match="cells"):
        protect(cells, threshold=10, base=5)
