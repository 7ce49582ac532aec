-- Staging view over the parsed Parquet dataset `agencies` (rename and cast only).
select agency_id,
       agency_name,
       names,
       level,
       region_code,
       province,
       city,
       county,
       parent_agency_id,
       in_registry,
       established,
       abolished
from read_parquet('{{ parsed_dir }}/agencies/**/*.parquet', hive_partitioning = false, union_by_name = true)
