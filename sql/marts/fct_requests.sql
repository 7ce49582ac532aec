-- One row per figure of table 'requests' (grain: report × row, applicant). is_current is false for
-- reports superseded by a corrected version.
with facts as (
    select * from stg_facts where fact_table = 'requests'
),
final as (
    select f.report_id, r.agency_id, f.report_year, f.era, row, applicant,
           f.value, f.unit, f.approximate, f.label_zh, f.source,
           r.superseded_by is null as is_current
    from facts f
    join dim_report r using (report_id)
)
select * from final
