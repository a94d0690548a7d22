"""Column-level lineage of every model, from dbt's compiled SQL back to source columns.

    python scripts/lineage.py [--target-dir DIR] [--format text|json] [--model NAME ...]

Modules: model (the data types and the algebra of steps), expressions (what one hop inside an
expression does to a value), query (one query's lineage), consent (does a query filter on
consent), project (every model of a manifest), paths (paths to the leaves, findings, summaries),
cli (scripts/lineage.py).

Reads manifest.json (compiled SQL, sources with their column meta.privacy, seeds, layers) and
catalog.json (or the warehouse's columns in catalog.json's shape) and, for every model, parses
its compiled SQL once with sqlglot (DuckDB dialect), qualifies it against the columns of its
inputs (which expands `select *` and `* exclude (...)`), and walks the qualified AST: for each
output column, which columns of the model's direct inputs (models, seeds, sources) flow into
it and how. Chaining these hops across models traces any model column down to source columns
(and seed columns, the non-personal reference data). Nothing is read from dbt docs; no data
value is ever read or printed, only SQL and metadata.

API (pure functions over parsed artifacts; every result is JSON-ready or has `to_dict`):

    trace_project(manifest, catalog, target_dir=None) -> ProjectLineage   parse every model once
    trace_column(project, model, column) -> list[LineagePath]             paths to the leaves
    lineage_findings(project) -> list[str]          (also `project.findings`)
    lineage_summary(project) -> {model: {column: [entry]}}   (also `project.columns`), entry =
        {source, source_kind, source_classification, data_category, steps, carries_value, path}
    model_summary(project) -> {model: {layer, published, consent_filtered, parsed, ...}}
    sql_lineage(sql, schema, lookup_relations=, consent_relations=) -> SqlLineage   one query

Models without compiled_code in the manifest (a `dbt build --select` leaves it only on the
selected nodes) are read from target_dir/compiled/<package>/<path> (target_dir defaults to
DBT_TARGET_PATH, else target/), then from compiled_path. Paths are memoized per model column
and kept once per (leaf, steps, carries_value), the shortest, so diamonds stay linear.

Sources: each source's `relation_name` (e.g. `read_parquet('.../customers.parquet', ...)`)
appears verbatim in the compiled SQL of its base model; it is replaced by
`"__source__"."<source_name>"."<table>"` so the schema can describe it. Its columns are the
ones declared in the yml plus `filename` and `file_row_number`, which `read_parquet` adds:
technical columns, non_personal unless the yml says otherwise.

Steps (the classification of one hop, or of a whole path; a set):

    hashed            the value passes through a *keyed* hash: sha256/md5/sha1/hash/hmac... over
                      an expression that reads a secret (`getvariable(...)`, as the project's
                      HMAC does, or a query parameter). An unkeyed hash of an identifier can
                      be reversed by hashing candidate values, so it counts as generalized.
    aggregated        the value passes through an aggregate function that summarizes (count,
                      count distinct, sum, avg, bool_or, stddev, ...), the filter clause of
                      one, or the order of a window aggregate. Aggregates that return input
                      values as they are (min, max, any_value, first, last, list/array_agg,
                      string_agg, mode, min_by/max_by) are passed_through: `max(email)` is
                      an email. A window's partition by only groups rows and is not lineage;
                      count(*) has no upstream column.
    generalized       any other derivation: the conditions of a case/if, arithmetic,
                      date_trunc/extract, string functions, comparisons, casts to a coarser
                      type (timestamp -> date, decimal -> integer, fewer decimal places,
                      double -> decimal), ranking windows (row_number, ntile...), and
                      lookups (see below).
    passed_through    a bare column, a rename, a cast that loses nothing (or whose input type
                      is unknown), a column returned by a then/else branch of a case/if (the
                      value is returned as it is; the case's conditions are what generalize),
                      or a value-preserving wrapper: coalesce, nullif's first argument,
                      trim/lower/upper (normalization, not coarsening), distinct, struct/list
                      constructors, unnest, lag/lead/first_value/last_value.
    consent_filtered  the model joins or filters on a consent-layer model (meta.privacy.layer
                      `consent`): the consent relation is the FROM side of a join, is joined
                      with an inner/right/semi/anti join, or is read by a subquery in a
                      where/having/qualify/on clause. Every hop into such a model carries it.
                      A model that only selects from a consent model (no join) does not.

Nested transforms keep the strongest ones: hashed and/or aggregated if present, else
generalized, else passed_through (consent_filtered is kept alongside). Along a path the steps
of the hops are united and reduced the same way.

Value or selector: each occurrence of an input column in an output expression either carries
its value (possibly transformed) or only *selects* the output: the condition of a case/if, a
comparison or other predicate (x is null, x > 5, starts_with...), the order of a window, the
ordering argument of min_by/max_by, a lookup key. `carries_value` is false on a path as soon as
one hop only selects. When one input column occurs several times in one output expression,
the occurrences that carry its value decide, and among them the weakest protection (so
`case when id is null then null else sha256(key || id) end` is hashed, while
`coalesce(sha256(key || email), email)` is passed_through); selector-only occurrences count
only when there is no value occurrence.

Lookups: a value taken from a relation whose columns all come from seeds (e.g. `age_band` of
the seed age_bands, joined on an age computed from the birth date) has two upstreams: the seed
column, as projected (usually passed_through), and every column of another relation used in
the ON condition of the join that brings the lookup in (the conjuncts that mention the lookup;
if the lookup is the FROM relation, the conjuncts of every join that mention it). Those join
keys are `generalized` and are selectors (carries_value false): the key picks a row of
reference data, its value does not reach the output. Aggregates over a lookup's rows (e.g.
min_by over matching patterns) do not count as aggregating the key. USING joins and WHERE
conditions are not treated as lookups.

Findings (`lineage_findings`), one line each, names only:
  - a column of a published model (meta.privacy.published) or a mart model (layer behavior,
    segments, measurement) whose path from a source column classified direct_identifier
    carries the value and has neither hashed nor aggregated;
  - a column of a model past staging that traces to a source column without
    meta.privacy.classification, or to a relation that is not a model, seed or source;
  - a model whose SQL could not be parsed or qualified (its columns, and the lineage of the
    models downstream of it, are untraced), and a model whose lineage is incomplete (a column
    reference that could not be resolved, a `select *` that could not be expanded).

Limitations: lineage is projection lineage, so values chosen by a filter (where, qualify, a
semi-join, the row a k-means assignment keeps) are not lineage; struct fields are traced as
the whole struct; a key kept in a CTE column instead of read in the hash expression itself is
not recognised as a key (the hash then counts as generalized, the conservative side); an
aggregate that returns one row's value (min, max, any_value, list) counts as aggregated, so
`max(email) group by customer` would not be a finding here (the audit's value scans catch it).
"""

from privseg.lineage.model import (
    AGGREGATED,
    CONSENT_FILTERED,
    GENERALIZED,
    HASHED,
    PASSED_THROUGH,
    STEPS,
    ColumnRef,
    Flow,
    LineageError,
    LineagePath,
    ModelLineage,
    ProjectLineage,
    SqlLineage,
)
from privseg.lineage.paths import lineage_findings, lineage_summary, model_summary, trace_column
from privseg.lineage.project import trace_project
from privseg.lineage.query import sql_lineage

__all__ = [
    "AGGREGATED",
    "CONSENT_FILTERED",
    "GENERALIZED",
    "HASHED",
    "PASSED_THROUGH",
    "STEPS",
    "ColumnRef",
    "Flow",
    "LineageError",
    "LineagePath",
    "ModelLineage",
    "ProjectLineage",
    "SqlLineage",
    "lineage_findings",
    "lineage_summary",
    "model_summary",
    "sql_lineage",
    "trace_column",
    "trace_project",
]
