{{ validate_raw_rows('web_events') }}
