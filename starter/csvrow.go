package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/text"
)

// maxLine bounds one line of an import file. Every valid row is far shorter
// (names and contacts are at most 200 characters, emails 254), so a longer
// line is reported as a bad row without ever being held in memory.
const maxLine = 16 << 10

// Columns of an import file.
const (
	colName          = "name"
	colEmail         = "email"
	colCloud         = "cloud"
	colContact       = "contact"
	colConfirmWithin = "confirm_within"
)

var (
	requiredColumns = []string{colName, colEmail, colCloud}
	knownColumns    = []string{colName, colEmail, colCloud, colContact, colConfirmWithin}
)

// columnsHint is how error messages describe the expected header.
const columnsHint = "want a header row name,email,cloud[,contact][,confirm_within]"

// header maps each known column to its index in a row.
type header struct {
	index map[string]int
	n     int
}

// customerRow is one valid customer from an import file.
type customerRow = onboarding.NewCustomer

// parseHeader reads the header row. Column names are case-insensitive and
// may come in any order.
func parseHeader(line []byte) (header, error) {
	fields, err := splitLine(line)
	if err != nil {
		return header{}, fmt.Errorf("header: %w (%s)", err, columnsHint)
	}
	h := header{index: map[string]int{}, n: len(fields)}
	for i, f := range fields {
		name := strings.ToLower(strings.TrimSpace(f))
		if !slices.Contains(knownColumns, name) {
			return header{}, fmt.Errorf("header: unknown column %q (%s)", text.Truncate(name, 40), columnsHint)
		}
		if _, dup := h.index[name]; dup {
			return header{}, fmt.Errorf("header: column %q appears twice (%s)", name, columnsHint)
		}
		h.index[name] = i
	}
	for _, name := range requiredColumns {
		if _, ok := h.index[name]; !ok {
			return header{}, fmt.Errorf("header: missing column %q (%s)", name, columnsHint)
		}
	}
	return h, nil
}

// parseRow reads and validates one data row: every field of it, with the
// same rules as `starter add`, plus a refusal of values a spreadsheet would
// run as a formula.
func parseRow(h header, line []byte) (customerRow, error) {
	fields, err := splitLine(line)
	if err != nil {
		return customerRow{}, err
	}
	if len(fields) != h.n {
		return customerRow{}, fmt.Errorf("has %d fields, the header has %d", len(fields), h.n)
	}
	get := func(col string) string {
		if i, ok := h.index[col]; ok {
			return strings.TrimSpace(fields[i])
		}
		return ""
	}
	r := customerRow{Name: get(colName), Email: get(colEmail), Cloud: get(colCloud), Contact: get(colContact)}
	var errs []error
	for _, col := range requiredColumns {
		if get(col) == "" {
			errs = append(errs, fmt.Errorf("%s: missing", col))
		}
	}
	if len(errs) > 0 {
		return customerRow{}, errors.Join(errs...)
	}
	for _, f := range []struct{ col, v string }{{colName, r.Name}, {colEmail, r.Email}, {colContact, r.Contact}} {
		if err := checkFormula(f.col, f.v); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return customerRow{}, err
	}
	if err := domain.Validate(r.Name, r.Email, r.Cloud, r.Contact); err != nil {
		return customerRow{}, err
	}
	if v := get(colConfirmWithin); v != "" {
		d, err := domain.ParseConfirmWithin(v)
		if err != nil {
			return customerRow{}, err
		}
		r.ConfirmWithin = d
	}
	return r, nil
}

// splitLine splits one line of CSV into fields. Fields may be quoted, but a
// field may not span lines: no customer field may contain a line break.
func splitLine(line []byte) ([]string, error) {
	if !utf8.Valid(line) {
		return nil, errors.New("not valid UTF-8 (save the file as CSV UTF-8)")
	}
	if bytes.IndexByte(line, 0) >= 0 {
		return nil, errors.New("contains a NUL byte (save the file as CSV UTF-8)")
	}
	r := csv.NewReader(bytes.NewReader(line))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	fields, err := r.Read()
	if err == io.EOF {
		return nil, errors.New("is empty")
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("is not valid CSV: %w (quote a field that holds a comma or a quote, and double the quotes inside it)", err)
	}
	if _, err := r.Read(); err != io.EOF {
		return nil, errors.New("holds a line break inside a field; line breaks are not allowed in a field")
	}
	return fields, nil
}

// checkFormula refuses a value that a spreadsheet opening an export would
// run as a formula (CSV injection): one starting with = + - @, a tab or a
// carriage return.
func checkFormula(col, v string) error {
	if domain.FormulaLike(v) {
		return &domain.InvalidError{Field: col, Reason: fmt.Sprintf("%q starts with %q, which a spreadsheet would run as a formula; remove that character", text.Truncate(v, 40), v[:1])}
	}
	return nil
}

// lineReader reads an import file line by line, holding at most maxLine
// bytes of any line in memory.
type lineReader struct {
	r    *bufio.Reader
	line int // number of the line last returned, from 1
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, maxLine)}
}

// errLineTooLong reports a line over maxLine; the reader has skipped it.
var errLineTooLong = fmt.Errorf("is longer than %d KiB; a field is far too long", maxLine>>10)

// next returns the next line without its line ending, io.EOF at the end,
// or errLineTooLong for a line it skipped.
func (lr *lineReader) next() ([]byte, error) {
	line, err := lr.r.ReadSlice('\n')
	if len(line) == 0 && err == io.EOF {
		return nil, io.EOF
	}
	lr.line++
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = lr.r.ReadSlice('\n')
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		return nil, errLineTooLong
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if lr.line == 1 {
		line = bytes.TrimPrefix(line, []byte("\uFEFF")) // the byte-order mark spreadsheets write
	}
	return line, nil
}
