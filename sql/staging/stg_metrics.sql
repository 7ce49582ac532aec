-- Staging view over the parsed Parquet dataset `metrics` (rename and cast only).
select dimension,
       "key",
       label_zh,
       label_en,
       definition,
       eras
from read_parquet('{{ parsed_dir }}/metrics/**/*.parquet', hive_partitioning = false, union_by_name = true)
