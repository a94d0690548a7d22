"""What every command shares: settings from env vars (settings), dbt artifacts (manifest), the
dbt runner (dbt_runner), the pseudonymization key (keys), atomic writes (files), logging (logs)
and the warehouse compaction (warehouse)."""
