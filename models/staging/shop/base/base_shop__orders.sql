{{ validate_raw_rows('orders') }}
