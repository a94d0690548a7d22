{{ typed_raw_rows('products') }}
