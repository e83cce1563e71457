"""Benchmarks, submissions, runs on the real data, output checks and the leaderboard.

Who sees what (the rule of docs/security.md, "What a job reveals", as for analysis jobs):
before release, what the submitter sees of a submission depends only on the model, the
benchmark and the dummy twin - the checks before anything runs, the run on the dummy
twin - never on the real data. A submission that ran on the real data is `finished` for
them whether it produced metrics or failed there; its real outcome, error and metrics are
for the output checkers, and the metrics become public once two of them approve.

The rules live in one module per concern (benchmarks, submissions, shown); this module names
what pages, the API, the CLI and other capabilities call.
"""

from campus.evaluation.benchmarks import (  # noqa: F401
    CARD_FIELDS,
    CHECKS_TO_RELEASE,
    DUMMY_RUNS,
    FINISHED,
    SUPPRESSED,
    benchmark_public,
    create_benchmark,
    dummy_feature_table,
    get_benchmark,
    list_benchmarks,
    parsed,
)
from campus.evaluation.shown import (  # noqa: F401
    audience,
    check_output,
    checks,
    federated_choices,
    leaderboard,
    may_steward,
    outward_status,
    require_follow,
    sweep_federated,
    to_check,
    view,
)
from campus.evaluation.submissions import (  # noqa: F401
    STALL_GRACE,
    get_submission,
    reap_stalled,
    release_metrics,
    run_submission,
    sandbox_grace,
    score,
    submit,
    work_once,
)
