{{ validate_raw_rows('customers') }}
