"""The audience export for marketing operations: audience.py (who), key.py (the build's key),
warehouse.py (what is read), files.py (what is written), cli.py (scripts/export_audience.py)."""
