import statistics

import pytest

from campus.analysis import definition, privacy, runner
from campus.errors import BadRequest


def test_laplace_noise_is_centred_and_scaled_by_epsilon():
    loose, tight = privacy.laplace(5.0), privacy.laplace(0.1)
    loose_draws = [loose(1000) for _ in range(300)]
    tight_draws = [tight(1000) for _ in range(300)]
    assert abs(statistics.mean(tight_draws) - 1000) < 5
    assert statistics.pstdev(tight_draws) > 5 * statistics.pstdev(loose_draws)
    assert all(isinstance(v, int) for v in tight_draws)


def test_the_gaussian_mechanism_is_calibrated_to_the_asked_epsilon():
    mechanism = privacy.gaussian(1.0)
    assert len({mechanism(50) for _ in range(50)}) > 1


def test_dp_covers_counts_and_histograms_and_refuses_quantiles_and_survival():
    analysis = definition.parse(
        {
            "title": "t",
            "dataset": "d",
            "views": {"p": {"library": "p"}},
            "cohort": {"view": "p", "index_date": "2020-01-01"},
            "privacy": {"epsilon": 1.0},
            "outputs": [
                {"type": "counts", "name": "a"},
                {"type": "crosstab", "name": "b", "rows": "x", "columns": "y"},
                {
                    "type": "distribution",
                    "name": "c",
                    "column": "z",
                    "quantiles": [],
                    "histogram": {"edges": [0, 1]},
                },
                {"type": "distribution", "name": "q", "column": "z"},
            ],
        }
    )
    assert runner.noisy_outputs(analysis) == 3
    assert list(runner.dp_problems(analysis)) == ["outputs[3].quantiles"]


def test_an_epsilon_out_of_bounds_is_refused():
    with pytest.raises(BadRequest, match=r"privacy\.epsilon"):
        definition.parse(
            {
                "title": "t",
                "dataset": "d",
                "views": {"p": {"library": "p"}},
                "cohort": {"view": "p"},
                "privacy": {"epsilon": 0},
                "outputs": [{"type": "counts", "name": "a"}],
            }
        )
