{{ validate_raw_rows('consent_events') }}
