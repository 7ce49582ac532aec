-- Staging view over the parsed Parquet dataset `facts` (rename and cast only).
select *
from read_parquet('{{ parsed_dir }}/facts/**/*.parquet', hive_partitioning = false, union_by_name = true)
