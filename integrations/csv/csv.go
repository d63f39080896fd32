// Package csv imports stories from a spreadsheet's CSV export (Jira's included) and exports a
// session's stories, estimates and votes as CSV.
package csv

import (
	"bytes"
	stdcsv "encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// provider names this adapter in every error it returns.
const provider = "csv"

// Limits on an imported file. A session with thousands of stories is already unusable in the
// room, and reading the whole file into memory stays cheap at this size.
const (
	// MaxRows is the most stories one file may hold.
	MaxRows = 5000
	// MaxBytes is the largest file Parse reads.
	MaxBytes = 10 << 20
)

// field is one story attribute a column can feed.
type field int

const (
	fieldTitle field = iota
	fieldDescription
	fieldURL
	fieldKey
	fieldEstimate
	fieldType
	fieldCount
)

// columnNames maps header names, lower-cased with single spaces, to the field they feed, in
// order of preference when a file has several (a "Title" column wins over a "Name" column).
// The Jira names are those of Jira's "Export Excel CSV" output.
var columnNames = [fieldCount][]string{
	fieldTitle:       {"title", "summary", "name"},
	fieldDescription: {"description", "body"},
	fieldURL:         {"url", "link"},
	fieldKey:         {"key", "issue key", "id"},
	fieldEstimate: {"estimate", "story points", "points", "custom field (story points)",
		"story point estimate", "custom field (story point estimate)"},
	fieldType: {"type", "issue type"},
}

// Parse reads stories from CSV. The first line names the columns, in any order and any case:
// title (or summary, name), description (or body), url (or link), key (or id, issue key) and
// estimate (or story points, points, Jira's "Custom field (Story Points)"); other columns are
// ignored. The delimiter may be a comma, a semicolon or a tab. A row without a key gets an
// empty Key. Every error is an *session.Error of CodeInvalid that names the line.
func Parse(r io.Reader) ([]session.ExternalStory, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, &session.Error{Code: session.CodeInvalid,
			Message: provider + ": " + "cannot read the file: " + err.Error(), Err: err}
	}
	if len(raw) > MaxBytes {
		return nil, invalid("the file is larger than %d MiB; split it into smaller files", MaxBytes>>20)
	}
	text, err := decodeText(raw)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(text) == "" {
		return nil, invalid("the file is empty; its first line must name the columns, for example: title,description,url,key,estimate")
	}

	rd := stdcsv.NewReader(strings.NewReader(text))
	rd.Comma = sniffDelimiter(text)
	// Rows may be shorter or longer than the header: spreadsheets drop trailing empty cells.
	rd.FieldsPerRecord = -1

	header, err := rd.Read()
	if err != nil {
		return nil, parseError(err, text)
	}
	cols := mapHeader(header)
	if len(cols[fieldTitle]) == 0 {
		return nil, invalid("no title column; found columns: %s (name one of: %s)",
			listColumns(header), strings.Join(columnNames[fieldTitle], ", "))
	}

	items := []session.ExternalStory{}
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, parseError(err, text)
		}
		line, _ := rd.FieldPos(0)
		if blankRecord(rec) {
			continue
		}
		if len(items) == MaxRows {
			return nil, invalid("line %d: the file has more than %d stories; import at most %d at a time", line, MaxRows, MaxRows)
		}
		it := session.ExternalStory{
			Title:       cols.value(rec, fieldTitle),
			Description: cols.value(rec, fieldDescription),
			URL:         cols.value(rec, fieldURL),
			Key:         cols.value(rec, fieldKey),
			Estimate:    cols.value(rec, fieldEstimate),
			Type:        cols.value(rec, fieldType),
		}
		if it.Title == "" {
			return nil, invalid("line %d: the title is empty (column %q)", line, strings.TrimSpace(header[cols[fieldTitle][0]]))
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return nil, invalid("the file has a header line but no stories below it")
	}
	return items, nil
}

func invalid(format string, args ...any) *session.Error {
	return httpx.Errorf(provider, session.CodeInvalid, format, args...)
}

// decodeText returns the file as UTF-8 without a byte order mark. Excel writes a UTF-8 BOM for
// "CSV UTF-8" and UTF-16 for "Unicode Text", so both are accepted; anything else that is not
// UTF-8 (an old Windows code page) is refused with the line to look at, rather than imported
// as garbled titles.
func decodeText(b []byte) (string, error) {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		b = b[3:]
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return decodeUTF16(b)
	}
	if !utf8.Valid(b) {
		i := 0
		for i < len(b) {
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			i += size
		}
		return "", invalid("line %d is not UTF-8 text; save the file as \"CSV UTF-8\"", bytes.Count(b[:i], []byte("\n"))+1)
	}
	return string(b), nil
}

func decodeUTF16(b []byte) (string, error) {
	bigEndian := b[0] == 0xFE
	b = b[2:]
	if len(b)%2 != 0 {
		return "", invalid("the file looks like UTF-16 text but is cut short; save it as \"CSV UTF-8\"")
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		if bigEndian {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	return string(utf16.Decode(u)), nil
}

// sniffDelimiter picks the delimiter that occurs most often outside quotes on the header line.
// A comma wins ties, and a file with a single column therefore reads as comma-separated.
// Semicolons come from spreadsheets in locales that write decimals with a comma.
func sniffDelimiter(text string) rune {
	counts := map[rune]int{}
	inQuote := false
	for _, r := range text {
		if r == '"' {
			inQuote = !inQuote
			continue
		}
		if inQuote {
			continue
		}
		if r == '\n' {
			break
		}
		counts[r]++
	}
	best := ','
	for _, d := range []rune{';', '\t'} {
		if counts[d] > counts[best] {
			best = d
		}
	}
	return best
}

// lineLength returns the length in bytes of line n (1-based) of text, without its line end.
func lineLength(text string, n int) int {
	for i := 1; i < n; i++ {
		_, rest, ok := strings.Cut(text, "\n")
		if !ok {
			return 0
		}
		text = rest
	}
	line, _, _ := strings.Cut(text, "\n")
	return len(strings.TrimSuffix(line, "\r"))
}

// parseError words an encoding/csv error with the line to fix.
func parseError(err error, text string) error {
	var pe *stdcsv.ParseError
	if !errors.As(err, &pe) {
		return &session.Error{Code: session.CodeInvalid,
			Message: provider + ": " + "cannot read the file: " + err.Error(), Err: err}
	}
	var e *session.Error
	switch {
	case errors.Is(pe.Err, stdcsv.ErrQuote) && pe.Column > lineLength(text, pe.Line):
		// The reader ran past the end of the file looking for the closing quote; otherwise
		// the column points at the closing quote that something follows.
		e = invalid("line %d: a quoted field is never closed; add the missing \"", pe.StartLine)
	case errors.Is(pe.Err, stdcsv.ErrQuote):
		e = invalid("line %d: text follows the closing \" of a quoted field; a \" inside a quoted field must be doubled (\"\")", pe.Line)
	case errors.Is(pe.Err, stdcsv.ErrBareQuote):
		e = invalid("line %d: a \" appears inside a field that is not quoted; quote the whole field and double the \" inside it", pe.Line)
	default:
		e = invalid("line %d: %v", pe.Line, pe.Err)
	}
	e.Err = err
	return e
}

// columns holds, for each field, the indexes of the columns that feed it, best first.
type columns [fieldCount][]int

func normalizeName(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(strings.TrimPrefix(s, "\uFEFF")), " "))
}

// mapHeader finds the columns for each field. Jira repeats some column names (Sprint, Labels,
// Comment); all copies are kept and the first non-empty one is used row by row.
func mapHeader(header []string) columns {
	var cols columns
	for f, names := range columnNames {
		for _, name := range names {
			for i, h := range header {
				if normalizeName(h) == name {
					cols[f] = append(cols[f], i)
				}
			}
		}
	}
	return cols
}

// value returns the first non-empty cell among the field's columns, trimmed and with any
// formula guard added by Write taken off.
func (c columns) value(rec []string, f field) string {
	for _, i := range c[f] {
		if i >= len(rec) {
			continue
		}
		if v := strings.TrimSpace(unguard(rec[i])); v != "" {
			return v
		}
	}
	return ""
}

func blankRecord(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// listColumns shows the header's names for an error message; Jira exports have hundreds of
// columns, so the list is cut short.
func listColumns(header []string) string {
	const max = 20
	names := make([]string, 0, min(len(header), max))
	for i, h := range header {
		if i == max {
			names = append(names, "and "+strconv.Itoa(len(header)-max)+" more")
			break
		}
		h = strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF"))
		if h == "" {
			h = `""`
		}
		names = append(names, h)
	}
	return strings.Join(names, ", ")
}

// isFormulaStart reports whether a spreadsheet would read a cell starting with b as a formula.
// The list is OWASP's for CSV injection.
func isFormulaStart(b byte) bool {
	switch b {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// guard prefixes a cell that a spreadsheet would run as a formula with a single quote, which
// spreadsheets show as text. Cells that are already quote-prefixed formulas get one more quote,
// so that unguard gives back exactly the original.
func guard(s string) string {
	rest := strings.TrimLeft(s, "'")
	if rest != "" && isFormulaStart(rest[0]) {
		return "'" + s
	}
	return s
}

// unguard undoes guard.
func unguard(s string) string {
	rest := strings.TrimLeft(s, "'")
	if len(rest) < len(s) && rest != "" && isFormulaStart(rest[0]) {
		return s[1:]
	}
	return s
}
