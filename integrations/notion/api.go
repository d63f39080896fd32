package notion

import (
	"encoding/json"
	"strings"
)

// The shapes of Notion's API (version 2022-06-28) that this package reads and writes, decoded
// with encoding/json: a property type Pokor does not know is kept as its type name and
// otherwise ignored, never a reason to fail.

// richText is one run of rich text; only its plain text matters here.
type richText struct {
	PlainText string `json:"plain_text"`
}

func plainText(rt []richText) string {
	var b strings.Builder
	for _, r := range rt {
		b.WriteString(r.PlainText)
	}
	return b.String()
}

// option is a select, multi-select or status option.
type option struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
}

// optionList is the configuration of a select, multi-select or status property.
type optionList struct {
	Options []option `json:"options"`
}

// propertyConfig is one property of a database's schema.
type propertyConfig struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Type        string      `json:"type"`
	Select      *optionList `json:"select,omitempty"`
	MultiSelect *optionList `json:"multi_select,omitempty"`
	Status      *optionList `json:"status,omitempty"`
}

// options returns the option names of a select, multi-select or status property.
func (p propertyConfig) options() []string {
	var l *optionList
	switch p.Type {
	case typeSelect:
		l = p.Select
	case typeMultiSelect:
		l = p.MultiSelect
	case typeStatus:
		l = p.Status
	}
	if l == nil {
		return nil
	}
	names := make([]string, len(l.Options))
	for i, o := range l.Options {
		names[i] = o.Name
	}
	return names
}

// database is GET /v1/databases/{id}, and a database in search results.
type database struct {
	Object     string                    `json:"object"`
	ID         string                    `json:"id"`
	URL        string                    `json:"url"`
	Archived   bool                      `json:"archived"`
	InTrash    bool                      `json:"in_trash"`
	Title      []richText                `json:"title"`
	Properties map[string]propertyConfig `json:"properties"`
}

// propertyValue is the value of one property of a page.
type propertyValue struct {
	ID       string     `json:"id"`
	Type     string     `json:"type"`
	Title    []richText `json:"title,omitempty"`
	RichText []richText `json:"rich_text,omitempty"`
	// Number is nil when the property is empty.
	Number *float64 `json:"number,omitempty"`
	// Select is nil when no option is chosen.
	Select *option `json:"select,omitempty"`
}

// page is GET /v1/pages/{id}, and a page in query results.
type page struct {
	ID       string `json:"id"`
	URL      string `json:"url"`
	Archived bool   `json:"archived"`
	InTrash  bool   `json:"in_trash"`
	Parent   struct {
		Type       string `json:"type"`
		DatabaseID string `json:"database_id"`
	} `json:"parent"`
	Properties map[string]propertyValue `json:"properties"`
}

// list is a paginated answer: a database query or a search.
type list struct {
	Results    []json.RawMessage `json:"results"`
	HasMore    bool              `json:"has_more"`
	NextCursor *string           `json:"next_cursor"`
}

// next is the cursor of the following page, "" on the last one.
func (l list) next() string {
	if !l.HasMore || l.NextCursor == nil {
		return ""
	}
	return *l.NextCursor
}

// user is GET /v1/users/me: the integration's bot user.
type user struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Bot  *struct {
		WorkspaceName string `json:"workspace_name"`
	} `json:"bot,omitempty"`
}

// apiError is Notion's error object.
type apiError struct {
	Object  string `json:"object"`
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }
