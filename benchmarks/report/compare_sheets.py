#!/usr/bin/env python3
"""Checks that two workbooks hold the same cells in one sheet (the report benchmark's like-for-like
check between report-detail-bench and raw_xlsxwriter).

Compares every data row of the sheet's XML byte for byte after replacing each cell's style index
with the number format it stands for (the two workbooks number their formats differently), so
values, types, inline strings, cell references, empty cells and number formats must all agree.
The header row is compared by text only: its styling differs on purpose (the report's header has
a fill and a border). Column widths, the autofilter and document properties are not compared.

    compare_sheets.py OURS.xlsx RAW.xlsx [SHEET]     (SHEET defaults to Transactions)
"""
import re
import sys
import zipfile
import xml.etree.ElementTree as ET

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def sheet_path(archive, name):
    workbook = ET.fromstring(archive.read("xl/workbook.xml"))
    rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target") for rel in rels}
    for sheet in workbook.iter(MAIN + "sheet"):
        if sheet.get("name") == name:
            return "xl/" + targets[sheet.get(REL + "id")]
    sys.exit(f"no sheet {name!r}")


def style_formats(archive):
    """Style index -> number format code (builtin formats by id)."""
    styles = ET.fromstring(archive.read("xl/styles.xml"))
    codes = {fmt.get("numFmtId"): fmt.get("formatCode") for fmt in styles.iter(MAIN + "numFmt")}
    xfs = styles.find(MAIN + "cellXfs")
    return [codes.get(xf.get("numFmtId"), "builtin:" + xf.get("numFmtId")) for xf in xfs]


def sheet_rows(path):
    """(header texts, data rows with style indexes replaced by format codes)."""
    with zipfile.ZipFile(path) as archive:
        formats = style_formats(archive)
        xml = archive.read(sheet_path(archive, sheet))
    start = xml.index(b"<sheetData>") + len(b"<sheetData>")
    end = xml.index(b"</sheetData>")
    data = xml[start:end]
    header_end = data.index(b"</row>") + len(b"</row>")
    header = re.findall(rb"<t[^>]*>([^<]*)</t>", data[:header_end])
    body = re.sub(rb' s="(\d+)"', lambda m: b' f="' + formats[int(m.group(1))].encode() + b'"',
                  data[header_end:])
    return header, body


ours_path, raw_path = sys.argv[1], sys.argv[2]
sheet = sys.argv[3] if len(sys.argv) > 3 else "Transactions"
ours_header, ours = sheet_rows(ours_path)
raw_header, raw = sheet_rows(raw_path)
rows = ours.count(b"</row>")
if ours_header != raw_header:
    sys.exit(f"headers differ:\n  ours {ours_header}\n  raw  {raw_header}")
if ours != raw:
    ours_rows, raw_rows = ours.split(b"</row>"), raw.split(b"</row>")
    for index, (a, b) in enumerate(zip(ours_rows, raw_rows)):
        if a != b:
            sys.exit(f"data row {index + 1} differs:\n  ours {a[:600]!r}\n  raw  {b[:600]!r}")
    sys.exit(f"row counts differ: ours {len(ours_rows) - 1}, raw {len(raw_rows) - 1}")
print(f"same cells: {rows} data rows x {len(ours_header)} columns in {sheet!r} "
      f"({len(ours):,} bytes of row XML)")
