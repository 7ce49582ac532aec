-- Staging view over the parsed Parquet dataset `checks` (rename and cast only).
select report_id,
       report_year,
       check_name,
       passed,
       expected,
       actual,
       detail
from read_parquet('{{ parsed_dir }}/checks/**/*.parquet', hive_partitioning = false, union_by_name = true)
