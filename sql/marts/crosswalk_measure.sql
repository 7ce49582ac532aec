-- The crosswalk of the harmonised mart: which stated figure of which era feeds which
-- comparable measure of mart_agency_year. The rows are warehouse.eras.crosswalk_rows() (each era
-- declares its own). A measure is the SUM of the figures mapped to it that the report states;
-- when it states none of them the measure is NULL, never 0.
--   * era P (prose + the 2008 statistics table): 收到申请数 -> received_new, 同意公开答复数 ->
--     granted, 同意部分公开答复数 -> partially_granted, 不同意公开答复数 -> withheld,
--     不属于本行政机关公开数 + 申请信息不存在数 -> unavailable, 行政复议数量 -> reconsideration,
--     行政诉讼数量 (undivided) -> lawsuits; the parser already maps these labels to keys.
--   * 2019 tables: one 其他处理 row; table 二 规章/规范性文件 本年新制作数量 -> issued,
--     对外公开总数量 -> in force (the closest 2019 figure).
--   * 2021 tables: 其他处理 = the three 2021 rows; 本年制发件数 -> issued, 现行有效件数 -> in force.
--   * lawsuits = 未经复议直接起诉 + 复议后起诉 in both table eras.
--   * proactive items: the year's figure stated in words in every era (table eras: 一、总体情况).
select * from (values
    {{ crosswalk_rows }}
) as crosswalk(measure, era, fact_table, dim_1, dim_2)
