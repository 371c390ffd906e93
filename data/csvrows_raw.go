package data

// ReadRaw replaces d's rows with up to n next rows of c read as a raw
// table, as ReadCSV with CSVOptions.Raw and NA na reads one: a number, NaN
// for a missing cell, or in a text column the index of the cell's text in
// d.Levels[j]. Every column j but those with skip[j] (skip is nil or
// Width long) is kept, named by the header if there is one; d.Source and
// d.RowLines say where each column and row came from. A Preprocess then
// encodes d (Preprocess.Apply), a batch at a time, so that input of any
// length costs n rows of memory; the texts of a column are interned per
// batch, and a batch of n ≤ MaxLevels rows never overflows them.
//
// Rows and an error may come together: the rows before a bad one, or
// the last rows and io.EOF, which ends the input.
func (c *CSVRows) ReadRaw(d *Dataset, n int, skip []bool, na []string) error {
	d.Name, d.N, d.Features, d.Columns, d.Source = c.Name, 0, 0, nil, nil
	for j := range c.Width {
		if skip == nil || !skip[j] {
			d.Features++
			d.Source = append(d.Source, j)
			if c.Columns != nil {
				d.Columns = append(d.Columns, c.Columns[j])
			}
		}
	}
	d.F64, d.RowLines, d.U8 = d.F64[:0], d.RowLines[:0], nil
	cells := newRawCells(d, na)
	for d.N < n {
		rec, err := c.record()
		if err != nil {
			return err
		}
		for j, field := range rec {
			if skip != nil && skip[j] {
				continue
			}
			if err := cells.add(field); err != nil {
				d.F64 = d.F64[:d.N*d.Features] // the rows before this one
				return c.fail(j+1, "field %s %v", Quote(field), err)
			}
		}
		cells.endRow()
		d.RowLines = append(d.RowLines, line32(c.Line))
		d.N++
		c.rows++
	}
	return nil
}
