"""Agency identity: renames resolve to one id; bodies outside the registry get level and region from their name."""
import pytest

from warehouse.agencies import Agency, AgencyRegistry, level_from_name


def test_renamed_body_keeps_its_id():
    registry = AgencyRegistry([Agency("lands", ["某省国土资源厅", "某省自然资源厅"], level="department")])
    assert registry.resolve("某省国土资源厅") == registry.resolve("某省自然资源厅") == "lands"
    assert registry.resolve("某省自然资源厅（更正）") == "lands"     # a bracketed note is not a new body
    assert registry.resolve("某省人民政府办公室") != registry.resolve("某省人民政府")


@pytest.mark.parametrize("name,level,code,province,city,county", [
    ("淮安市洪泽区人民政府", "county", "320813", "江苏省", "淮安市", "洪泽区"),
    ("淮安市人民政府", "prefecture", "320800", "江苏省", "淮安市", None),
    ("上海市人民政府", "provincial", "310000", "上海市", None, None),
    ("郑州市中原区审计局", "department", "410102", "河南省", "郑州市", "中原区"),
    ("五常市民意乡人民政府", "township", "230184", "黑龙江省", "哈尔滨市", "五常市"),
    ("鞍山高新技术产业开发区管理委员会", "zone", "210300", "辽宁省", "鞍山市", None),
    ("国家税务总局", "national", None, None, None, None),
])
def test_bodies_outside_the_registry_get_level_and_region(name, level, code, province, city, county):
    registry = AgencyRegistry()
    agency_id = registry.resolve(name)
    row = next(r for r in registry.rows({}) if r["agency_id"] == agency_id)
    assert (row["level"], row["region_code"], row["province"], row["city"], row["county"]) == \
        (level, code, province, city, county)
    assert row["in_registry"] is False


def test_level_from_name_without_region():
    assert level_from_name("某某街道办事处", {}) == "township"
    assert level_from_name("某某局", {}) == "department"
    assert level_from_name("某某人民政府", {}) is None   # a government whose region is unknown
