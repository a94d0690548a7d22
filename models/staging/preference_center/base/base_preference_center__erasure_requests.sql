{{ validate_raw_rows('erasure_requests') }}
