{{ typed_raw_rows('preferences') }}
