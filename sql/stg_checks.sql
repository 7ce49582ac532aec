-- Staging view over the parsed Parquet dataset `checks` (rename and cast only).
select *
from read_parquet('{{ parsed_dir }}/checks/**/*.parquet', hive_partitioning = false, union_by_name = true)
