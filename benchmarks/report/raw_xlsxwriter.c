/* The baseline for the report benchmark: libxlsxwriter alone writing the same cells as the
 * Transactions sheet of `credits report` (16 columns; a deduction row fills 13 of them: numbers
 * with the same formats, a UTC date-time, inline strings), constant-memory mode, bold frozen
 * header and autofilter, splitting at Excel's row limit like the report does. Transfer ids and
 * whole credits take `#,##0` and fractional credits `#,##0.0#####`, as in the report
 * (XLSXFormats), so that report-detail-bench writes exactly the same data cells (run.sh compares
 * them).
 *
 *   cc -O2 -o raw_xlsxwriter raw_xlsxwriter.c $(pkg-config --cflags --libs xlsxwriter)
 *   ./raw_xlsxwriter OUT.xlsx ROWS
 */
#include <stdio.h>
#include <stdlib.h>
#include <xlsxwriter.h>

#define ROWS_PER_SHEET_MAX 1048576

static const char *headers[] = {
    "Transfer ID", "Posted at (UTC)", "Kind", "Organisation ID", "Debit account", "Credit account", "Credits",
    "Cost", "Idempotency key", "Cost event ID", "Revolut order ID", "Team", "Investigation", "Operation",
    "Plan period", "Memo"};
static const char *teams[] = {"analysis", "cyber", "fraud", "intel", "forensics"};
static const char *operations[] = {"llm.completion", "transcription", "ocr", "embedding"};

static lxw_worksheet *new_sheet(lxw_workbook *workbook, int part, lxw_format *bold) {
    char name[32];
    if (part == 1) snprintf(name, sizeof name, "Transactions");
    else snprintf(name, sizeof name, "Transactions (%d)", part);
    lxw_worksheet *sheet = workbook_add_worksheet(workbook, name);
    for (int column = 0; column < 16; column++) {
        worksheet_write_string(sheet, 0, column, headers[column], bold);
        worksheet_set_column(sheet, column, column, 18, NULL);
    }
    worksheet_freeze_panes(sheet, 1, 0);
    worksheet_autofilter(sheet, 0, 0, ROWS_PER_SHEET_MAX - 1, 15);
    return sheet;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s OUT.xlsx ROWS\n", argv[0]);
        return 64;
    }
    long rows = atol(argv[2]);
    lxw_workbook_options options = {.constant_memory = LXW_TRUE};
    lxw_workbook *workbook = workbook_new_opt(argv[1], &options);
    lxw_format *bold = workbook_add_format(workbook);
    format_set_bold(bold);
    lxw_format *integer = workbook_add_format(workbook);
    format_set_num_format(integer, "#,##0");
    lxw_format *instant = workbook_add_format(workbook);
    format_set_num_format(instant, "yyyy-mm-dd hh:mm:ss");
    lxw_format *credits = workbook_add_format(workbook);
    format_set_num_format(credits, "#,##0.0#####");
    lxw_format *money = workbook_add_format(workbook);
    format_set_num_format(money, "\"\xC2\xA3\"#,##0.00");
    char text[96];
    int part = 1;
    lxw_worksheet *sheet = new_sheet(workbook, part, bold);
    long row = 1;
    for (long index = 0; index < rows; index++, row++) {
        if (row == ROWS_PER_SHEET_MAX) {
            sheet = new_sheet(workbook, ++part, bold);
            row = 1;
        }
        int org = (int)(index % 100);
        worksheet_write_number(sheet, row, 0, (double)(index + 1), integer);
        worksheet_write_number(sheet, row, 1, 46327.0 + (double)(index % 2592000) / 86400.0, instant);
        worksheet_write_string(sheet, row, 2, "deduction", NULL);
        snprintf(text, sizeof text, "org-%03d", org);
        worksheet_write_string(sheet, row, 3, text, NULL);
        snprintf(text, sizeof text, "org:org-%03d", org);
        worksheet_write_string(sheet, row, 4, text, NULL);
        worksheet_write_string(sheet, row, 5, "system:consumption", NULL);
        worksheet_write_number(sheet, row, 6, 0.5 + (double)(index % 495) / 10.0,
                               index % 495 % 10 == 5 ? integer : credits);
        worksheet_write_number(sheet, row, 7, (double)(index % 2000) / 100.0, money);
        snprintf(text, sizeof text, "deduction:cost-event:evt-org-%03d-%06ld", org, index / 100);
        worksheet_write_string(sheet, row, 8, text, NULL);
        snprintf(text, sizeof text, "evt-org-%03d-%06ld", org, index / 100);
        worksheet_write_string(sheet, row, 9, text, NULL);
        worksheet_write_string(sheet, row, 11, teams[index % 5], NULL);
        if (index % 7 != 0) {
            snprintf(text, sizeof text, "op-%ld", index % 10);
            worksheet_write_string(sheet, row, 12, text, NULL);
        }
        worksheet_write_string(sheet, row, 13, operations[index % 4], NULL);
    }
    lxw_error error = workbook_close(workbook);
    if (error != LXW_NO_ERROR) {
        fprintf(stderr, "workbook_close: %s\n", lxw_strerror(error));
        return 74;
    }
    return 0;
}
