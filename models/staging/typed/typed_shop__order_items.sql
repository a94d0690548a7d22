{{ typed_raw_rows('order_items') }}
