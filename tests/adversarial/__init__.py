"""The adversarial suite: attacks on the research environment's promise, one file per channel.

Campus promises hospitals and patients that only disclosure-checked aggregates leave the
research environment. Each test here plays an attacker (an approved researcher, an anonymous
visitor, a reviewer acting out of turn) against one side channel, and fails when the guard
that closes it is removed:

- test_jobs_*: what a job on real data shows its team, the public and the register (status,
  errors, logs, timings, opted-out counts) does not depend on the real data;
- test_quantiles*: published quantiles cannot be solved back to a person's value;
- test_dp*: under differential privacy every released number is noised and paid for;
- test_sandbox*: DuckDB cannot read or write outside a dataset version's folder;
- test_bad_input*: malformed definitions are refused with where, never a crash;
- governance files: separation of duties, object checks, the opt-out form's throttle, CSV
  formula neutralisation, rare codes in the catalogue.

docs/security.md states the rules these tests hold the code to.
"""
