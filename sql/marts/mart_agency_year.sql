-- One row per agency and report year (current report only) with the measures comparable
-- across the three eras, via crosswalk_measure. NULL where the report states none of the
-- mapped figures, never 0.
with facts as (
    select report_id, era, 'requests' as fact_table, "row" as dim_1, applicant as dim_2, value
    from fct_requests where is_current
    union all
    select report_id, era, 'reviews', proceeding, result, value from fct_reviews where is_current
    union all
    select report_id, era, 'proactive', item_type, measure, value from fct_proactive_disclosure where is_current
),
measures as (
    select f.report_id, c.measure, sum(f.value) as value
    from facts f
    join crosswalk_measure c using (era, fact_table, dim_1, dim_2)
    group by all
),
wide as (
    -- the measures of warehouse.metrics.MART_COLUMNS the crosswalk feeds, in that order
    pivot measures on measure in ({{ mart_measures }}) using first(value) group by report_id
),
checks as (
    select report_id, bool_or(not passed) as failed_any_check,
           list(check_name order by check_name) filter (where not passed) as failed_checks
    from fct_check_results
    group by report_id
),
final as (
    select r.agency_id, a.agency_name, a.level, a.region_code, r.report_year, r.era, r.report_id,
           r.agency_name as agency_name_as_printed,
           w.* exclude (report_id),
           round((w.granted_full + w.granted_part) / nullif(w.handled_total, 0), 4) as grant_rate,
           coalesce(c.failed_any_check, false) as failed_any_check,
           coalesce(c.failed_checks, []) as failed_checks
    from dim_report r
    join dim_agency a using (agency_id)
    left join wide w using (report_id)
    left join checks c using (report_id)
    where r.superseded_by is null
)
select * from final
