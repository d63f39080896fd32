package notion

import (
	"context"
	"fmt"
	"strconv"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// WriteEstimate writes est to the estimate property of the page whose ID (or URL) is key, with
// PATCH /v1/pages/{id}. The property is est.Options[OptionProperty] when set, else the one
// EstimateProperty chooses. A Number property takes numeric cards only; a Select property takes
// the option matching the card and never gets a new option: a card without one is refused with
// the options listed. Writing a value the page already holds makes no request.
func (c *Client) WriteEstimate(ctx context.Context, key string, est session.WriteBack) (session.WriteResult, error) {
	id, ok := parseID(key)
	if !ok {
		return session.WriteResult{}, httpx.Errorf(provider, session.CodeInvalid,
			"%q is not a Notion page ID", key)
	}
	page, err := c.page(ctx, id)
	if err != nil {
		return session.WriteResult{}, err
	}
	if page.Archived || page.InTrash {
		// Writing to a page in the trash would show synced where nobody looks.
		return session.WriteResult{}, httpx.Errorf(provider, session.CodeNotFound,
			"page %s is in the trash: restore it in Notion to write the estimate", id)
	}
	if page.Parent.Type != "database_id" || page.Parent.DatabaseID == "" {
		return session.WriteResult{}, httpx.Errorf(provider, session.CodeInvalid,
			"page %s is not in a database, so it has no estimate property", id)
	}
	s, err := c.database(ctx, page.Parent.DatabaseID)
	if err != nil {
		return session.WriteResult{}, err
	}
	t, err := s.estimate(est.Options[OptionProperty])
	if err != nil {
		return session.WriteResult{}, err
	}

	var value string
	var prop map[string]any
	switch t.Type {
	case typeNumber:
		n, ok := est.Numeric()
		if !ok {
			return session.WriteResult{}, httpx.Errorf(provider, session.CodeInvalid,
				"card %q is not a number and %q is a Number property: accept a numeric card, or choose a Select property with the \"property\" option",
				est.Value, t.Property)
		}
		value = strconv.FormatFloat(n, 'f', -1, 64)
		prop = map[string]any{"number": n}
	case typeSelect:
		opt, ok := matchOption(t.Options, est.Value)
		if !ok {
			return session.WriteResult{}, httpx.Errorf(provider, session.CodeInvalid,
				"card %q matches no option of the Select property %q (options: %s): add an option named %q to it in Notion, or choose another property with the \"property\" option",
				est.Value, t.Property, listOrNone(t.Options), est.Value)
		}
		value = opt
		prop = map[string]any{"select": map[string]string{"name": opt}}
	}
	detail := fmt.Sprintf("%s: %s", t.Property, value)

	if current, known := currentValue(page.Properties[t.Property]); known && current == value {
		return session.WriteResult{Detail: detail + " (already set)"}, nil
	}
	req := map[string]any{"properties": map[string]any{t.Property: prop}}
	if err := c.do(ctx, target{noun: "page", id: id, action: "update"}, "PATCH", "pages/"+id, req, nil); err != nil {
		return session.WriteResult{}, err
	}
	return session.WriteResult{Detail: detail}, nil
}

// page fetches one page (GET /v1/pages/{id}).
func (c *Client) page(ctx context.Context, id string) (*page, error) {
	var p page
	if err := c.do(ctx, target{noun: "page", id: id, action: "read"}, "GET", "pages/"+id, nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}
