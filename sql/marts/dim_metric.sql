-- The data dictionary: every key with its Chinese and English labels, definition and eras
-- (generated from warehouse/metrics.py, the single declaration of the keys).
select dimension, key, label_zh, label_en, definition, string_split(eras, ',') as eras
from stg_metrics
