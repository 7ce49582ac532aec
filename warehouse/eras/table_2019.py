"""The 2019 tables (国办公开办函〔2019〕60号; report years 2019–2020): table 二 counts documents
newly made / newly published / published in total and items of the year before / changed; table
三 has one 其他处理 row.

Its nearest figure to "normative documents in force" is 对外公开总数量 (published in total).
"""
import re

from warehouse.eras.registry import TABLES, Era, register
from warehouse.eras._shared import TABLE_CHECKS, requests_rows, reviews_rows

ERA = register(Era(
    name="table_2019", label="Standard tables (2019)", layout=TABLES, first_year=2019,
    markers=("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "采购总金额"),
    # also with its brackets dropped by an extraction: '〔201960号'
    notices=(re.compile(r"2019[〕\]］)）]?\s*60\s*号"),),
    other_handling_rows=("other_handling",),
    check_families=TABLE_CHECKS,
    crosswalk=(
        *requests_rows(("other_handling",)),
        *reviews_rows(("litigation_direct", "litigation_after_reconsideration")),
        ("proactive_items", "proactive", "all_items", "count"),
        ("rules_issued", "proactive", "rules", "newly_made"),
        ("normative_documents_issued", "proactive", "normative_documents", "newly_made"),
        ("normative_documents_in_force", "proactive", "normative_documents", "published_total"),
    ),
))
