"""The privacy audit: it recomputes, with its own queries on the built warehouse, the raw files
and dbt's compiled metadata, what the privacy invariants promise.

    registry.py   the checks, declared once (name, claim, method, invariants, function)
    checks/       one module per check
    context.py    what one audit run works on (AuditRun)
    runner.py     runs the registry's checks, writes the JSON and HTML reports
    facts.py      the report's facts besides the checks (published tables, segments, consent)
    ropa.py       the Record of Processing Activities, generated from metadata
    catalog.py    the warehouse's text columns and column types
    cli.py        scripts/audit_privacy.py
"""
