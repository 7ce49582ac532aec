"""HTML page templates of the demo portal (TRS-style static site)."""
from __future__ import annotations

import html
from dataclasses import dataclass
from string import Template

PORTAL_NAME = "青川省人民政府门户网站"
PAGE_SIZE = 8
COLUMN_TITLE = "政府信息公开年报"

HEAD = Template("""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head>
<meta http-equiv="Content-Type" content="text/html; charset=$charset" />
<title>$title</title>
<link href="/images/common.css" type="text/css" rel="stylesheet" />
</head>
<body>
<div class="header"><div class="logo">$portal</div>
<ul class="nav"><li><a href="/index.html">首页</a></li><li><a href="/index.html#xxgk">信息公开</a></li>
<li><a href="/index.html#hdjl">互动交流</a></li><li><a href="/index.html#bsfw">办事服务</a></li></ul></div>
""")

FOOT = Template("""<div class="footer"><p>主办：青川省人民政府办公厅　承办：青川省大数据中心</p>
<p>网站标识码：5800000001　青ICP备05003721号　青公网安备 58010202000117号</p></div>
</body></html>
""")

ARTICLE = Template("""<div class="position">您现在的位置：<a href="/index.html">首页</a>&nbsp;&gt;&nbsp;<a href="/$slug/index.html">信息公开</a>&nbsp;&gt;&nbsp;<a href="/$slug/zfxxgknb/index.html">$column</a></div>
<table class="xxgk_meta" width="100%" border="0" cellspacing="0" cellpadding="0">
<tr><td class="t1">索引号：</td><td>$index_no</td><td class="t1">发布机构：</td><td>$publisher</td></tr>
<tr>$date_cells<td class="t1">主题分类：</td><td>$topic</td></tr>
</table>
<div class="article">
<h1 class="article_title">$title</h1>
<div class="article_info">$date_info来源：$publisher&nbsp;&nbsp;<span>【字体：大 中 小】</span></div>
<div class="TRS_Editor">
$body
</div>
</div>
""")

PAGINATION_SCRIPT = """<script type="text/javascript">
function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){
if(_nPageCount == null || _nPageCount<=1){ return; }
var nCurrIndex = _nCurrIndex || 0;
if(nCurrIndex == 0) document.write("首页&nbsp;|&nbsp;上一页&nbsp;|&nbsp;");
else {
 document.write("<a href=\\"" + _sPageName + "." + _sPageExt + "\\">首页</a>&nbsp;|&nbsp;");
 if(nCurrIndex == 1) document.write("<a href=\\"" + _sPageName + "." + _sPageExt + "\\">上一页</a>&nbsp;|&nbsp;");
 else document.write("<a href=\\"" + _sPageName + "_" + (nCurrIndex-1) + "." + _sPageExt + "\\">上一页</a>&nbsp;|&nbsp;");
}
if(nCurrIndex == _nPageCount-1) document.write("下一页&nbsp;|&nbsp;尾页");
else {
 document.write("<a href=\\"" + _sPageName + "_" + (nCurrIndex+1) + "." + _sPageExt + "\\">下一页</a>&nbsp;|&nbsp;");
 document.write("<a href=\\"" + _sPageName + "_" + (_nPageCount-1) + "." + _sPageExt + "\\">尾页</a>");
}
document.write("&nbsp;共" + _nPageCount + "页");
}
</script>"""


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def page(title: str, main: str, charset: str = "utf-8") -> str:
    return HEAD.substitute(charset=charset, title=esc(title), portal=PORTAL_NAME) + main + FOOT.substitute()


@dataclass
class ListItem:
    title: str
    href: str        # relative to the column directory
    date: str        # YYYY-MM-DD (orders the column)
    shown: bool = True  # False: the listing prints no date for this item


def page_file(index: int) -> str:
    return "index.html" if index == 0 else f"index_{index}.html"


def plain_pagination(count: int, current: int) -> str:
    """The pagination the script would write, as plain links (what a saved TRS page shows)."""
    parts = [f"共&nbsp;<font style=\"color:#FF8008\">{count}&nbsp;</font>页&nbsp;"]
    parts.append('<a href="index.html">首页</a>&nbsp;|&nbsp;')
    parts.append(f'<a href="{page_file(current - 1)}">上一页</a>&nbsp;|&nbsp;' if current > 0 else "上一页&nbsp;|&nbsp;")
    for i in range(count):
        parts.append(f'<font style="color:#FF8008">{i + 1}</font>&nbsp;|&nbsp;' if i == current
                     else f'<a href="{page_file(i)}">{i + 1}</a>&nbsp;|&nbsp;')
    parts.append(f'<a href="{page_file(current + 1)}">下一页</a>&nbsp;|&nbsp;' if current < count - 1
                 else "下一页&nbsp;|&nbsp;")
    parts.append(f'<a href="{page_file(count - 1)}">尾页</a>')
    return "".join(parts)


def listing_page(agency_name: str, slug: str, items: list[ListItem], count: int, current: int,
                 charset: str) -> str:
    rows = "\n".join(
        f'<tr valign="top"><td width="25"><img src="/images/ico2.jpg" /></td>'
        f'<td width="550"><a href="{item.href}" target="_blank" title="{html.escape(item.title)}">{esc(item.title)}</a></td>'
        f"<td>{item.date if item.shown else ''}</td></tr>" for item in items)
    main = f"""<table width="1006" border="0" cellspacing="0" cellpadding="0" align="center"><tr>
<td width="220" valign="top" class="left"><div class="left_title">{esc(agency_name)}</div>
<ul><li><a href="/{slug}/index.html">信息公开指南</a></li><li><a href="./index.html">{COLUMN_TITLE}</a></li></ul></td>
<td valign="top"><div class="position">您现在的位置：<a href="/index.html">首页</a>&nbsp;&gt;&gt;&nbsp;<a href="/{slug}/index.html">信息公开</a>&nbsp;&gt;&gt;&nbsp;<a href="./index.html">{COLUMN_TITLE}</a></div>
<table width="682" border="0" cellspacing="0" cellpadding="0" class="gl_list">
{rows}
</table>
<div class="page">{PAGINATION_SCRIPT}
<script type="text/javascript">createPageHTML({count}, {current}, "index", "html");</script>
<div class="page_links">{plain_pagination(count, current)}</div></div>
</td></tr></table>
"""
    return page(f"{COLUMN_TITLE}_{agency_name}", main, charset)


def article_page(*, slug: str, title: str, publisher: str, date: str | None, index_no: str, body: str,
                 charset: str, topic: str = "政务公开") -> str:
    """date None: a page that states no date at all (no 发布日期 field, no 发布时间 line)."""
    date_cells = (f'<td class="t1">发布日期：</td><td>{date}</td>' if date
                  else '<td class="t1">文　　号：</td><td></td>')
    date_info = f"发布时间：{date}&nbsp;&nbsp;" if date else ""
    main = ARTICLE.substitute(slug=slug, column=COLUMN_TITLE, index_no=index_no, publisher=esc(publisher),
                              date_cells=date_cells, date_info=date_info, topic=topic, title=esc(title), body=body)
    return page(title, main, charset)


def heading_html(text: str, word: bool) -> str:
    if word:
        return (f"<p class=MsoNormal style='text-indent:32.0pt'><b><span style='font-family:黑体'>"
                f"{esc(text)}</span></b><o:p></o:p></p>")
    return f'<p style="text-indent:2em"><strong>{esc(text)}</strong></p>'


def para_html(text: str, word: bool) -> str:
    if word:
        return (f"<p class=MsoNormal style='text-indent:32.0pt;line-height:28.0pt'><span "
                f"style='font-size:16.0pt;font-family:仿宋_GB2312'>{esc(text)}</span><o:p></o:p></p>")
    return f'<p style="text-indent:2em">{esc(text)}</p>'


def home_page(columns: list[tuple[str, str, str]]) -> str:
    """columns: (level label, agency name, column href)."""
    groups: dict[str, list[str]] = {}
    for level, name, href in columns:
        groups.setdefault(level, []).append(f'<li><a href="{href}">{esc(name)}{COLUMN_TITLE}</a></li>')
    blocks = "\n".join(f'<div class="block"><h3>{esc(level)}</h3><ul>{"".join(items)}</ul></div>'
                       for level, items in groups.items())
    main = f"""<div class="main" id="xxgk"><h2>政府信息公开年报</h2>
{blocks}
</div>
<div class="links"><a href="/admin/login.html">网站管理</a></div>
"""
    return page(PORTAL_NAME, main)


def agency_home(name: str, slug: str, charset: str) -> str:
    main = f"""<div class="position">您现在的位置：<a href="/index.html">首页</a>&nbsp;&gt;&nbsp;信息公开</div>
<h2>{esc(name)}</h2><ul><li><a href="/{slug}/zfxxgknb/index.html">{COLUMN_TITLE}</a></li></ul>
"""
    return page(f"{name}信息公开", main, charset)


def attachment_body(report_title: str, pdf_name: str) -> str:
    """A landing page's body linking the report's attachment (the link text ends in the file's extension)."""
    ext = pdf_name.rsplit(".", 1)[-1]
    return (f'<p style="text-indent:2em">现将《{esc(report_title)}》予以公布，全文详见附件。</p>\n'
            f'<p>附件：<a href="./{pdf_name}" target="_blank">{esc(report_title)}.{ext}</a></p>')


ADMIN_PAGE = page("网站管理后台", '<form action="/admin/login.html" method="post">用户名<input name="u" />'
                  '密码<input type="password" name="p" /></form>')
