{{ typed_raw_rows('orders') }}
