from warehouse.parse.html_tables import parse_html_tables


def test_rowspan_and_colspan_repeat_text():
    grid = parse_html_tables(
        "<table><tr><td rowspan='2'>组</td><td colspan='2'>头</td></tr>"
        "<tr><td>a</td><td>b</td></tr></table>")[0]
    assert grid == [["组", "头", "头"], ["组", "a", "b"]]


def test_word_pasted_spans_br_and_nbsp():
    grid = parse_html_tables(
        "<table><tr><td><p><span lang='EN-US'>1.</span><span>属于国家</span><span>秘密</span></p></td>"
        "<td>商业<br>企业</td><td>&nbsp;</td></tr></table>")[0]
    assert grid[0][0] == "1.属于国家秘密"
    assert grid[0][1] == "商业 企业"
    assert grid[0][2] == ""


def test_nested_table_is_its_own_grid():
    grids = parse_html_tables(
        "<table><tr><td>外<table><tr><td>内</td><td>7</td></tr></table></td><td>9</td></tr></table>")
    assert grids[0] == [["外", "9"]]
    assert grids[1] == [["内", "7"]]


def test_malformed_spans_are_clipped():
    grid = parse_html_tables("<table><tr><td rowspan='abc' colspan='x2'>a</td><td rowspan='99999'>b</td></tr>"
                             "<tr><td>c</td></tr></table>")[0]
    assert grid == [["a", "b"], ["c", "b"]]


def test_row_of_blank_cells_is_kept_empty_tr_is_dropped():
    grid = parse_html_tables("<table><tr><td>维持</td><td>总计</td></tr>"
                             "<tr><td>&nbsp;</td><td></td></tr><tr></tr></table>")[0]
    assert grid == [["维持", "总计"], ["", ""]]
    assert parse_html_tables("<table><tr><td></td></tr></table>") == []  # a spacer table
