-- Staging view over the parsed Parquet dataset `facts` (rename and cast only).
select report_id,
       report_year,
       era,
       fact_table,
       "row",
       applicant,
       proceeding,
       "result",
       item_type,
       measure,
       value,
       unit,
       approximate,
       label_zh,
       source
from read_parquet('{{ parsed_dir }}/facts/**/*.parquet', hive_partitioning = false, union_by_name = true)
