"""spark__pseudonymize fails loudly, never with NULL pseudonyms, when the session lacks the key
pads: without the view (Spark names it) and with an empty one (raise_error). The probes ran in
the tier's Spark session after the build (spark_job.py)."""

from __future__ import annotations


def test_without_the_pads_view_a_pseudonym_query_fails_naming_it(spark_build):
    outcome = spark_build.report["probes"]["without_view"]
    assert outcome.startswith("failed:") and "privseg_pseudonym_pads" in outcome


def test_with_an_empty_pads_view_a_pseudonym_query_fails_naming_the_cause(spark_build):
    outcome = spark_build.report["probes"]["empty_view"]
    assert outcome.startswith("failed:")
    assert "pseudonym key not in this Spark session" in outcome


def test_with_the_launchers_pads_the_same_query_succeeds(spark_build):
    assert spark_build.report["probes"]["with_view"] == "succeeded"
