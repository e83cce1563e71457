"""A Spark failure reaches the user as one line: the deepest Java exception's message, without
class names, Spark's error class, SQLSTATE or stack."""

from __future__ import annotations

from campus.views.engines import spark_reason

PY4J = """An error occurred while calling None.org.apache.spark.api.java.JavaSparkContext.
: org.apache.spark.SparkException: Could not parse Master URL: 'nowhere'
\tat org.apache.spark.SparkContext$.createTaskScheduler(SparkContext.scala:3204)
\tat org.apache.spark.SparkContext.<init>(SparkContext.scala:577)
"""
NESTED = """An error occurred while calling o42.collectToPython.
: org.apache.spark.SparkException: Job aborted due to stage failure: Task 0 failed
\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages(DAGScheduler.scala:2898)
Caused by: java.io.FileNotFoundException: File file:/data/missing.parquet does not exist
\tat org.apache.hadoop.fs.RawLocalFileSystem.deprecatedGetFileStatus(RawLocalFileSystem.java:779)
"""


def test_the_reason_is_the_deepest_java_message_on_one_line():
    assert spark_reason(Exception(PY4J)) == "Could not parse Master URL: 'nowhere'"
    assert spark_reason(Exception(NESTED)) == "File file:/data/missing.parquet does not exist"


def test_the_error_class_and_sqlstate_are_dropped():
    text = (
        "org.apache.spark.sql.AnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column "
        "`x` cannot be resolved. SQLSTATE: 42703; line 1 pos 7"
    )
    assert spark_reason(Exception(text)) == "A column `x` cannot be resolved."


def test_a_python_error_keeps_its_first_line():
    assert spark_reason(RuntimeError("Java gateway process exited\nmore")) == (
        "Java gateway process exited"
    )
    assert spark_reason(RuntimeError("")) == "RuntimeError"
