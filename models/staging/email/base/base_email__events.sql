{{ validate_raw_rows('email_events') }}
