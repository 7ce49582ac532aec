"""The fictional bodies of the demo portal (青川省 and its subdivisions).

Every name and region code here is invented. Each agency carries a `Style`:
how its web team prints reports (zero cells, Word-pasted markup, brackets,
page encoding …), so the drift between bodies that real portals show is
reproduced deterministically.
"""
from __future__ import annotations

from dataclasses import dataclass, field

PROVINCE = "青川省"
CITY = "岚州市"
FIRST_YEAR, LAST_YEAR = 2014, 2024


@dataclass(frozen=True)
class Style:
    zero: str = "0"                  # how a zero table cell is printed ("" = blank cell)
    word_markup: bool = False        # Word-pasted tables (<p class=MsoNormal>, split <span>s)
    half_brackets: bool = False      # "(一)予以公开" instead of "（一）予以公开"
    normative_2019: str = "规范性文件"     # label of the row in the 2019 table 二
    normative_2021: str = "行政规范性文件"  # label of the row in the 2021 table 二
    partial_note: bool = True        # "（二）部分公开" carries its parenthetical note
    table4_layout: str = "three_header"   # or "two_header"
    commas: bool = False             # 1,234
    fullwidth_digits: bool = False   # １２３
    charset: str = "utf-8"           # page encoding of the agency's pages
    stats_table: bool = False        # prose reports carry a 政府信息公开情况统计表
    procurement_unit: str = "元"      # 2019 table: unit of 采购总金额


@dataclass(frozen=True)
class Agency:
    agency_id: str
    names: tuple[tuple[str, int, int], ...]   # (name, first year, last year)
    level: str
    region_code: str
    city: str | None
    county: str | None
    parent_agency_id: str | None
    scale: int                      # typical disclosure requests per year
    short: str                      # how the body calls itself in prose ("我厅", "本局")
    makes_rules: bool = False       # only provincial / prefecture governments issue 规章
    style: Style = field(default_factory=Style)
    missing_years: tuple[int, ...] = ()  # years inside its life it published no report (planted: missing)
    established: int | None = None  # first year the body existed (registry field `established`)
    abolished: int | None = None    # year it was abolished: no report expected for it or later (`abolished`)

    @property
    def province(self) -> str:
        return PROVINCE

    def name_in(self, year: int) -> str:
        for name, first, last in self.names:
            if first <= year <= last:
                return name
        raise ValueError(f"{self.agency_id} has no name in {year}")

    @property
    def current_name(self) -> str:
        return self.names[-1][0]

    @property
    def first_year(self) -> int:
        return max(FIRST_YEAR, self.established or FIRST_YEAR)

    @property
    def last_year(self) -> int:
        return min(LAST_YEAR, (self.abolished - 1) if self.abolished else LAST_YEAR)

    def expected_years(self) -> list[int]:
        """The report years the body existed in: established .. abolished - 1, within the portal's years."""
        return list(range(self.first_year, self.last_year + 1))

    def report_years(self) -> list[int]:
        return [y for y in self.expected_years() if y not in self.missing_years]


def _one_name(name: str) -> tuple[tuple[str, int, int], ...]:
    return ((name, FIRST_YEAR, LAST_YEAR),)


AGENCIES: tuple[Agency, ...] = (
    Agency("qcs", _one_name("青川省人民政府"), "provincial", "580000", None, None, None, 140, "省政府",
           makes_rules=True, style=Style(stats_table=True, procurement_unit="万元")),
    Agency("qcs-bgt", _one_name("青川省人民政府办公厅"), "department", "580000", None, None, "qcs", 18, "省政府办公厅",
           style=Style(zero="", partial_note=False)),
    Agency("qcs-fgw", _one_name("青川省发展和改革委员会"), "department", "580000", None, None, "qcs", 30, "我委",
           style=Style(table4_layout="two_header", commas=True)),
    Agency("qcs-zrzyt", (("青川省国土资源厅", FIRST_YEAR, 2018), ("青川省自然资源厅", 2019, LAST_YEAR)),
           "department", "580000", None, None, "qcs", 45, "我厅", style=Style(zero="—", stats_table=True)),
    Agency("qcs-jyt", _one_name("青川省教育厅"), "department", "580000", None, None, "qcs", 26, "我厅",
           style=Style(word_markup=True, zero="&nbsp;", normative_2021="规范性文件")),
    Agency("lzs", _one_name("岚州市人民政府"), "prefecture", "580100", CITY, None, "qcs", 90, "市政府",
           makes_rules=True, style=Style(word_markup=True, commas=True, stats_table=True)),
    Agency("lzs-czj", _one_name("岚州市财政局"), "department", "580100", CITY, None, "lzs", 12, "我局",
           style=Style(zero="-", table4_layout="two_header")),
    Agency("lzs-zjj", _one_name("岚州市住房和城乡建设局"), "department", "580100", CITY, None, "lzs", 38, "我局",
           style=Style(zero="/", procurement_unit="万元")),
    Agency("lzs-gaj", _one_name("岚州市公安局"), "department", "580100", CITY, None, "lzs", 16, "我局",
           style=Style(zero="—", half_brackets=True)),
    Agency("sxq", _one_name("岚州市松溪区人民政府"), "county", "580102", CITY, "松溪区", "lzs", 32, "区政府",
           style=Style(half_brackets=True, stats_table=True, normative_2019="行政规范性文件")),
    Agency("sxq-czj", _one_name("岚州市松溪区财政局"), "department", "580102", CITY, "松溪区", "sxq", 5, "我局",
           style=Style(zero="无")),
    Agency("flx", _one_name("岚州市枫林县人民政府"), "county", "580123", CITY, "枫林县", "lzs", 22, "县政府",
           style=Style(charset="gbk", zero="", stats_table=True)),
    Agency("flx-jyj", _one_name("枫林县教育局"), "department", "580123", CITY, "枫林县", "flx", 7, "我局",
           style=Style(word_markup=True, zero="", partial_note=False)),
    Agency("flx-rsj", _one_name("枫林县人力资源和社会保障局"), "department", "580123", CITY, "枫林县", "flx", 9, "我局",
           style=Style(table4_layout="two_header"), missing_years=(2020,)),
    Agency("lz-gxq", _one_name("岚州高新技术产业开发区管理委员会"), "zone", "580171", CITY, None, "lzs", 11, "管委会",
           style=Style(zero="—", half_brackets=True)),
    Agency("flx-bsz", _one_name("枫林县白石镇人民政府"), "township", "580123", CITY, "枫林县", "flx", 2, "我镇",
           style=Style(charset="gb2312", zero="")),
    Agency("sxq-ljjd", _one_name("松溪区临江街道办事处"), "township", "580102", CITY, "松溪区", "sxq", 3, "我街道",
           style=Style(fullwidth_digits=True, zero="0"), established=2016),
    # created in the 2019 institutional reform: expected from 2019 on, never missing before
    Agency("lzs-yjj", (("岚州市应急管理局", 2019, LAST_YEAR),), "department", "580100", CITY, None, "lzs", 14, "我局",
           style=Style(zero="0"), established=2019),
    # abolished in the same reform (merged into lzs-yjj): its last report is for 2018
    Agency("lzs-ajj", (("岚州市安全生产监督管理局", FIRST_YEAR, 2018),), "department", "580100", CITY, None, "lzs", 8,
           "我局", style=Style(zero="—"), abolished=2019),
)

BY_ID = {a.agency_id: a for a in AGENCIES}


def registry_entry(agency: Agency, years_by_name: dict[str, list[int]]) -> dict:
    """The agencies.yaml entry of one agency; names carry the years they were printed in."""
    return {
        "agency_id": agency.agency_id,
        "names": [{"name": n, "years": years_by_name.get(n, [])} for n, _, _ in agency.names],
        "level": agency.level,
        "region_code": agency.region_code,
        "province": PROVINCE,
        "city": agency.city,
        "county": agency.county,
        "parent_agency_id": agency.parent_agency_id,
        **({"established": agency.established} if agency.established else {}),
        **({"abolished": agency.abolished} if agency.abolished else {}),
    }
