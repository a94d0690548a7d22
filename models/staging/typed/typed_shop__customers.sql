{{ typed_raw_rows('customers') }}
