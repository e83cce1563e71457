"""A cluster's spark-defaults.conf decides the shuffle's partitions; Campus's two (for local
mode and tests) apply only where it says nothing."""

from __future__ import annotations

from campus.views import engines


def test_spark_defaults_conf_overrides_the_shuffle_partitions(tmp_path, monkeypatch):
    monkeypatch.delenv("SPARK_HOME", raising=False)
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path))
    assert engines.session_defaults()["spark.sql.shuffle.partitions"] == "2"
    (tmp_path / "spark-defaults.conf").write_text(
        "spark.sql.shuffle.partitions  400\n", encoding="utf-8"
    )
    chosen = engines.session_defaults()
    assert "spark.sql.shuffle.partitions" not in chosen
    assert chosen["spark.sql.session.timeZone"] == "UTC"  # Campus's rules stay
