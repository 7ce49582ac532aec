-- Every identity check per report: the per-report checks the parser evaluated, plus the
-- cross-year one, carried_over(year) = carried_forward(year - 1) for the same agency.
with per_report as (
    select report_id, check_name, passed, expected, actual, detail from stg_checks
),
carry as (
    select r.report_id, r.agency_id, r.report_year,
           max(case when q.row = 'carried_over' then q.value end) as carried_over,
           max(case when q.row = 'carried_forward' then q.value end) as carried_forward
    from dim_report r
    join fct_requests q on q.report_id = r.report_id and q.applicant = 'total'
    where r.superseded_by is null
    group by all
),
across_years as (
    select cur.report_id, {{ check_family.requests_carry_over_across_years }} as check_name,
           cur.carried_over = prev.carried_forward as passed,
           prev.carried_forward as expected, cur.carried_over as actual,
           'carried_over(' || cur.report_year || ') = carried_forward(' || prev.report_year || ')' as detail
    from carry cur
    join carry prev on prev.agency_id = cur.agency_id and prev.report_year = cur.report_year - 1
    where cur.carried_over is not null and prev.carried_forward is not null
),
final as (
    select c.*, r.agency_id, r.report_year
    from (select * from per_report union all select * from across_years) c
    join dim_report r using (report_id)
)
select * from final
