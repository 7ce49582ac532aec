-- Every figure that differs between two consecutive versions of an agency's report of a year.
-- The versions of an agency and year are its reports in dim_report (every distinct content seen
-- at its URLs: a page edited in place between two crawls, a 更正版 at a new URL), in the order
-- they were first seen (first_seen_at), a marked correction after the others. A figure stated by
-- both with another value is 'changed', stated only by the newer 'added', only by the older
-- 'removed'. fact_key is the fact's own key, fact_table/dimension/dimension
-- (e.g. requests/received_new/total). The mart keeps using the current version (dim_report).
with versions as (
    select report_id, agency_id, report_year, url, is_correction, first_seen_at,
           row_number() over (partition by agency_id, report_year
                              order by is_correction, first_seen_at nulls last, report_id) as version
    from dim_report
),
pairs as (
    select o.agency_id, o.report_year, o.report_id as old_report_id, n.report_id as new_report_id,
           o.first_seen_at as old_first_seen_at, n.first_seen_at as new_first_seen_at,
           n.url, n.is_correction as new_is_correction
    from versions o
    join versions n on n.agency_id = o.agency_id and n.report_year = o.report_year and n.version = o.version + 1
),
facts as (
    select report_id, 'requests' as fact_table, 'requests/' || "row" || '/' || applicant as fact_key, value
    from fct_requests
    union all
    select report_id, 'reviews', 'reviews/' || proceeding || '/' || result, value from fct_reviews
    union all
    select report_id, 'proactive', 'proactive/' || item_type || '/' || measure, value from fct_proactive_disclosure
),
old_facts as (
    select p.old_report_id, p.new_report_id, f.fact_table, f.fact_key, f.value
    from pairs p join facts f on f.report_id = p.old_report_id
),
new_facts as (
    select p.old_report_id, p.new_report_id, f.fact_table, f.fact_key, f.value
    from pairs p join facts f on f.report_id = p.new_report_id
),
differences as (
    select coalesce(o.old_report_id, n.old_report_id) as old_report_id,
           coalesce(o.new_report_id, n.new_report_id) as new_report_id,
           coalesce(o.fact_table, n.fact_table) as fact_table,
           coalesce(o.fact_key, n.fact_key) as fact_key,
           o.value as old_value, n.value as new_value
    from old_facts o
    full outer join new_facts n
      on n.old_report_id = o.old_report_id and n.new_report_id = o.new_report_id and n.fact_key = o.fact_key
    where o.value is distinct from n.value
),
final as (
    select p.agency_id, p.report_year, d.fact_table, d.fact_key, d.old_value, d.new_value,
           p.old_report_id, p.new_report_id, p.old_first_seen_at, p.new_first_seen_at, p.url,
           case when d.old_value is null then 'added' when d.new_value is null then 'removed' else 'changed' end
               as change,
           p.new_is_correction
    from differences d
    join pairs p using (old_report_id, new_report_id)
)
select * from final
