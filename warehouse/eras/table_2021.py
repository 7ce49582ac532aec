"""The revised tables (国办公开办函〔2021〕30号; report years from 2021): table 二 counts documents
issued / repealed / in force and decisions and fees (amounts in 万元 unless printed otherwise);
table 三 splits 其他处理 into three rows (no correction, fee unpaid, other).
"""
import re

from warehouse.eras.registry import TABLES, Era, register
from warehouse.eras._shared import TABLE_CHECKS, requests_rows, reviews_rows

OTHER_HANDLING = ("other_no_correction", "other_fee_unpaid", "other_other")

ERA = register(Era(
    name="table_2021", label="Revised tables (2021)", layout=TABLES, first_year=2021,
    markers=("本年制发件数", "本年废止件数", "现行有效件数", "逾期不补正", "逾期未按收费通知",
             "本年收费金额", "本年处理决定数量"),
    notices=(re.compile(r"2021[〕\]］)）]?\s*30\s*号"),),
    other_handling_rows=OTHER_HANDLING,
    amount_unit="万元",
    check_families=TABLE_CHECKS,
    crosswalk=(
        *requests_rows(OTHER_HANDLING),
        *reviews_rows(("litigation_direct", "litigation_after_reconsideration")),
        ("proactive_items", "proactive", "all_items", "count"),
        ("rules_issued", "proactive", "rules", "issued"),
        ("normative_documents_issued", "proactive", "normative_documents", "issued"),
        ("normative_documents_in_force", "proactive", "normative_documents", "in_force"),
    ),
))
