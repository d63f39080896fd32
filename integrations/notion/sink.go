package notion

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jomei/notionapi"

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
	if page.Archived {
		// notionapi always sends "archived": false with an update, which would restore the page
		// from the trash as a side effect of writing an estimate.
		return session.WriteResult{}, httpx.Errorf(provider, session.CodeNotFound,
			"page %s is in the trash: restore it in Notion to write the estimate", id)
	}
	if page.Parent.Type != notionapi.ParentTypeDatabaseID || page.Parent.DatabaseID == "" {
		return session.WriteResult{}, httpx.Errorf(provider, session.CodeInvalid,
			"page %s is not in a database, so it has no estimate property", id)
	}
	s, err := c.database(ctx, page.Parent.DatabaseID.String())
	if err != nil {
		return session.WriteResult{}, err
	}
	t, err := s.estimate(est.Options[OptionProperty])
	if err != nil {
		return session.WriteResult{}, err
	}

	var value string
	var prop notionapi.Property
	switch t.Type {
	case typeNumber:
		n, ok := est.Numeric()
		if !ok {
			return session.WriteResult{}, httpx.Errorf(provider, session.CodeInvalid,
				"card %q is not a number and %q is a Number property: accept a numeric card, or choose a Select property with the \"property\" option",
				est.Value, t.Property)
		}
		value = strconv.FormatFloat(n, 'f', -1, 64)
		prop = notionapi.NumberProperty{Number: n}
	case typeSelect:
		opt, ok := matchOption(t.Options, est.Value)
		if !ok {
			return session.WriteResult{}, httpx.Errorf(provider, session.CodeInvalid,
				"card %q matches no option of the Select property %q (options: %s): add an option named %q to it in Notion, or choose another property with the \"property\" option",
				est.Value, t.Property, listOrNone(t.Options), est.Value)
		}
		value = opt
		prop = notionapi.SelectProperty{Select: notionapi.Option{Name: opt}}
	}
	detail := fmt.Sprintf("%s: %s", t.Property, value)

	// currentValue cannot tell a null number from 0, so a 0 is always written.
	if current, known := currentValue(page.Properties[t.Property]); known && current == value {
		return session.WriteResult{Detail: detail + " (already set)"}, nil
	}
	req := &notionapi.PageUpdateRequest{Properties: notionapi.Properties{t.Property: prop}}
	err = c.call(ctx, target{noun: "page", id: id, action: "update"}, func(ctx context.Context) error {
		_, err := c.api.Page.Update(ctx, notionapi.PageID(id), req)
		return err
	})
	if err != nil {
		return session.WriteResult{}, err
	}
	return session.WriteResult{Detail: detail}, nil
}

// page fetches one page (GET /v1/pages/{id}).
func (c *Client) page(ctx context.Context, id string) (*notionapi.Page, error) {
	var p *notionapi.Page
	err := c.call(ctx, target{noun: "page", id: id, action: "read"}, func(ctx context.Context) error {
		var err error
		p, err = c.api.Page.Get(ctx, notionapi.PageID(id))
		return err
	})
	return p, err
}
