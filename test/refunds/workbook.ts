// Editing the report workbook the way finance does: choosing REFUND in the Action column, or changing a cell.
import ExcelJS from 'exceljs';

export interface Edit {
  refund: string[];
  set?: { id: string; header: string; value: ExcelJS.CellValue }[];
  extraRow?: string;
}

/** A copy of the report with REFUND chosen for some rows and, optionally, cells edited, as finance would save it. */
export async function editedCopy(report: string, file: string, edit: Edit): Promise<string> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(report);
  const sheet = wb.getWorksheet('Discrepancies');
  if (!sheet) throw new Error('no Discrepancies sheet in the report');
  const col = new Map<string, number>();
  sheet.getRow(1).eachCell((c, n) => col.set(c.text, n));
  const rowOf = (id: string) => {
    let found: ExcelJS.Row | undefined;
    sheet.eachRow((r) => {
      if (r.getCell(col.get('Discrepancy ID')!).text === id) found = r;
    });
    if (!found) throw new Error(`row of ${id} not in the report`);
    return found;
  };
  for (const id of edit.refund) rowOf(id).getCell(col.get('Action')!).value = 'REFUND';
  for (const s of edit.set ?? []) rowOf(s.id).getCell(col.get(s.header)!).value = s.value;
  if (edit.extraRow !== undefined) {
    const r = sheet.getRow(sheet.rowCount + 1);
    r.getCell(col.get('Discrepancy ID')!).value = edit.extraRow;
    r.getCell(col.get('Currency')!).value = 'EUR';
    r.getCell(col.get('Action')!).value = 'REFUND';
  }
  await wb.xlsx.writeFile(file);
  return file;
}
