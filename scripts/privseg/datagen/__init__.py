"""Deterministic synthetic raw data of an online shop (scripts/generate_data.py): every table a
source system would export, with realistic behaviour, personal data to protect, and optional
faults for the staging layer to catch.

Everything is generated set-based in DuckDB SQL, in one in-memory connection (workspace.py).
Every random number is derived from DuckDB's deterministic hash() of (seed, a salt naming its
use, row ids) (functions.py), and every file is written ordered by its id, so the same arguments
always give byte-identical files. One module per raw table or family builds its compact rows and
declares how they render as the raw columns (customers, products, orders with order_items,
web_events, campaigns with email_events, consent_events, preferences, erasure_requests); faults.py
adds the faulty rows; cli.py runs them in order, writes the Parquet files and
generation_manifest.json.

The SQL lives in Python strings, since much of it is generated (weighted choices, lists of
reference values, per-country formats). It follows the house style of the models (lowercase,
4-space indent, trailing commas, explicit `as` and join types, no one-letter aliases), but the
SQL linter does not check it: sqlfluff lints .sql files only. Its random draws are keyed by salts
('country', 'sd', ...): those short strings are data, and changing one changes the rows that use
it.
"""
