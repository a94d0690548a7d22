{{ validate_raw_rows('preferences') }}
