{{ typed_raw_rows('campaigns') }}
