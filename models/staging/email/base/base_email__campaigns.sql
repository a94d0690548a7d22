{{ validate_raw_rows('campaigns') }}
