"""The key columns staged beside each resource: effective date and main code."""

from campus.warehouse.worker import EFFECTIVE_PATHS, code_of, effective_of


def test_effective_paths_are_of_one_or_two_names_as_effective_of_reads_them():
    assert all(1 <= len(path) <= 2 for path in EFFECTIVE_PATHS)


def test_the_effective_date_is_the_first_path_holding_a_text():
    resource = {
        "period": {"start": "2020-01-02"},
        "effectivePeriod": {"end": "2019-05-05"},  # no start: skipped
        "issued": "2021-01-01T00:00:00Z",
    }
    assert effective_of(resource) == "2020-01-02"
    assert effective_of({"effectiveDateTime": "2018-03-04"}) == "2018-03-04"
    assert effective_of({"effectivePeriod": "2018-03-04", "date": "2017"}) == "2017"
    assert effective_of({"effectiveDateTime": 2018, "birthDate": "1970-01-01"}) == "1970-01-01"
    assert effective_of({"status": "final"}) is None


def test_the_main_code_is_system_bar_code_of_the_first_coding():
    resource = {"code": {"coding": [{"system": "http://loinc.org", "code": "1-8"}]}}
    assert code_of(resource) == "http://loinc.org|1-8"
    assert code_of({"class": {"code": "AMB"}}) == "|AMB"
    assert code_of({"code": {"text": "free text only"}}) is None
