"""The project's Python: the command lines in scripts/ are thin entry points into this package.

    core/         settings from env vars, dbt artifacts, the dbt runner, the pseudonymization
                  key, atomic writes, logging, the warehouse compaction
    pipeline/     `make run`: generate, build, audit, publish, docs    (scripts/pipeline.py)
    datagen/      synthetic raw data, one module per raw table         (scripts/generate_data.py)
    audit/        the privacy audit and its check registry             (scripts/audit_privacy.py)
    lineage/      column-level lineage from dbt's compiled SQL         (scripts/lineage.py)
    report/       the audit report as one offline HTML page            (scripts/audit_report.py)
    publication/  the gate and the atomic release for BI
    export/       the consented audience export                        (scripts/export_audience.py)
    benchmark/    the build at growing scale                           (scripts/benchmark.py)

Business logic is SQL in the dbt project; this package orchestrates and audits it. The key
functions come from the dbt plugin (plugins/pseudonym_key.py), installed beside this package by
`make` (pyproject.toml).
"""
