package azuredevops

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// Write-back options, read from session.WriteBack.Options.
const (
	// OptionField is the reference name of the field an organizer picked
	// ("Custom.TShirtPoints"); it wins over discovery, and must be a field of the type.
	OptionField = "field"
	// OptionValues maps word cards to numbers, e.g. "XS=1,S=2,M=3,L=5,XL=8".
	OptionValues = "values"
)

// field is one field of a work item type, as GET …/workitemtypes/{type}/fields lists it.
type field struct {
	ReferenceName  string `json:"referenceName"`
	Name           string `json:"name"`
	AlwaysRequired bool   `json:"alwaysRequired"`
}

func (f field) label() string { return f.Name + " (" + f.ReferenceName + ")" }

// typeFields returns the fields of a work item type in a project, remembered for typesTTL.
func (c *Client) typeFields(ctx context.Context, project, typ string) ([]field, error) {
	k := typeKey(project, typ)
	c.types.mu.Lock()
	tf, ok := c.types.m[k]
	c.types.mu.Unlock()
	if ok && c.now().Sub(tf.at) < typesTTL {
		return tf.fields, nil
	}
	var res struct {
		Value []field `json:"value"`
	}
	path := url.PathEscape(project) + "/_apis/wit/workitemtypes/" + url.PathEscape(typ) + "/fields"
	if err := c.call(ctx, request{method: http.MethodGet, path: path, what: "read the fields of work item type " + typ + " in " + project}, &res); err != nil {
		return nil, err
	}
	c.types.mu.Lock()
	if len(c.types.m) > 1000 {
		c.types.m = map[string]typeFields{}
	}
	c.types.m[k] = typeFields{fields: res.Value, at: c.now()}
	c.types.mu.Unlock()
	return res.Value, nil
}

func (c *Client) forgetType(project, typ string) {
	c.types.mu.Lock()
	delete(c.types.m, typeKey(project, typ))
	c.types.mu.Unlock()
}

// estimateField chooses the field to write for a work item type: the organizer's pick when
// given (it must be a field of the type), else the one of Story Points, Effort and Size the
// type has. None is an error saying what to do; several is a choice for the organizer.
func (c *Client) estimateField(ctx context.Context, project, typ, pick string) (field, error) {
	fields, err := c.typeFields(ctx, project, typ)
	if err != nil {
		return field{}, err
	}
	if pick = strings.TrimSpace(pick); pick != "" {
		for _, f := range fields {
			if strings.EqualFold(f.ReferenceName, pick) || strings.EqualFold(f.Name, pick) {
				return f, nil
			}
		}
		return field{}, httpx.Errorf(provider, session.CodeInvalid,
			"the field %q chosen in the session's Azure DevOps settings is not a field of work item type %s in %s; pick one the type has (for example %s), or clear the setting", pick, typ, project, strings.Join(someFields(fields), ", "))
	}
	var found []field
	for _, want := range estimateFields {
		for _, f := range fields {
			if f.ReferenceName == want {
				found = append(found, f)
			}
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return field{}, httpx.Errorf(provider, session.CodeInvalid,
			"work item type %s in %s has no Story Points, Effort or Size field, so there is nowhere to write the estimate; add one of them to the type in the process settings, or name the field to write in the session's Azure DevOps settings (its reference name, e.g. Custom.Estimate)", typ, project)
	}
	e := httpx.Errorf(provider, session.CodeConflict,
		"work item type %s in %s has several estimate fields; pick the one your boards show in the session's Azure DevOps settings", typ, project)
	for _, f := range found {
		e.Choices = append(e.Choices, session.Choice{ID: f.ReferenceName, Name: f.Name})
	}
	return field{}, e
}

// someFields names a few custom and scheduling fields of a type, for a message.
func someFields(fields []field) []string {
	var out []string
	for _, f := range fields {
		if strings.HasPrefix(f.ReferenceName, "Custom.") || strings.HasPrefix(f.ReferenceName, "Microsoft.VSTS.Scheduling.") {
			out = append(out, f.ReferenceName)
		}
		if len(out) == 5 {
			break
		}
	}
	if len(out) == 0 {
		out = []string{FieldStoryPoints}
	}
	return out
}

// WriteEstimate writes est to the work item key ("42") with a JSON Patch of the field
// estimateField chooses, unless it already holds the value, and reads the field back from the
// answer: a value Azure DevOps did not keep is an error, never a success.
func (c *Client) WriteEstimate(ctx context.Context, key string, est session.WriteBack) (session.WriteResult, error) {
	id, err := parseKey(key)
	if err != nil {
		return session.WriteResult{}, err
	}
	n, shown, err := estimateNumber(est)
	if err != nil {
		return session.WriteResult{}, err
	}
	var w workItem
	path := "_apis/wit/workitems/" + strconv.FormatInt(id, 10)
	if err := c.call(ctx, request{method: http.MethodGet, path: path, what: "read work item " + key}, &w); err != nil {
		return session.WriteResult{}, err
	}
	project, typ := w.str("System.TeamProject"), w.str("System.WorkItemType")
	f, err := c.estimateField(ctx, project, typ, est.Options[OptionField])
	if err != nil {
		return session.WriteResult{}, err
	}
	where := fmt.Sprintf("work item %d (%s)", id, typ)
	if cur, ok := w.num(f.ReferenceName); ok && cur == n {
		return session.WriteResult{Detail: fmt.Sprintf("%s was already %s on %s", f.label(), shown, where)}, nil
	}
	patch := []map[string]any{{"op": "add", "path": "/fields/" + f.ReferenceName, "value": n}}
	var after workItem
	err = c.call(ctx, request{method: http.MethodPatch, path: path, body: patch, jsonPatch: true,
		what: "set " + f.label() + " on " + where}, &after)
	if err != nil {
		if statusOf(err) == http.StatusBadRequest {
			// The type or its rules changed since they were read: look again next time.
			c.forgetType(project, typ)
		}
		return session.WriteResult{}, err
	}
	if got, ok := after.num(f.ReferenceName); !ok || got != n {
		shownGot := "empty"
		if ok {
			shownGot = strconv.FormatFloat(got, 'f', -1, 64)
		}
		return session.WriteResult{}, httpx.Errorf(provider, session.CodeInvalid,
			"Azure DevOps accepted %s = %s on %s but the field now reads %s: a rule of the process changes it; check the type's rules", f.label(), shown, where, shownGot)
	}
	return session.WriteResult{Detail: fmt.Sprintf("%s set to %s on %s", f.label(), shown, where)}, nil
}

// parseKey reads a work item id: "42", "#42" or "AB#42" (Azure Boards' own mention form).
func parseKey(key string) (int64, error) {
	k := strings.TrimSpace(key)
	if i := strings.LastIndex(k, "#"); i >= 0 {
		k = k[i+1:]
	}
	id, err := strconv.ParseInt(k, 10, 64)
	if err != nil || id <= 0 {
		return 0, httpx.Errorf(provider, session.CodeInvalid, "%q is not a work item id such as 42", key)
	}
	return id, nil
}

// estimateNumber turns the accepted card into the number written: numeric cards as they are,
// word cards through the values option. "?" and "☕" are refused, and Pokor never guesses a
// number for a word.
func estimateNumber(est session.WriteBack) (float64, string, error) {
	v := strings.TrimSpace(est.Value)
	switch v {
	case "":
		return 0, "", httpx.Errorf(provider, session.CodeInvalid, "there is no accepted estimate to write")
	case "?":
		return 0, "", httpx.Errorf(provider, session.CodeInvalid,
			`"?" means the team is unsure, which is not an estimate: re-vote or accept a number before writing to Azure DevOps`)
	case "☕":
		return 0, "", httpx.Errorf(provider, session.CodeInvalid,
			`"☕" asks for a break, which is not an estimate: re-vote or accept a number before writing to Azure DevOps`)
	}
	n, ok := est.Numeric()
	shown := strconv.FormatFloat(n, 'f', -1, 64)
	if !ok {
		for _, pair := range strings.Split(est.Options[OptionValues], ",") {
			card, num, found := strings.Cut(pair, "=")
			if found && strings.EqualFold(strings.TrimSpace(card), v) {
				n, ok = (session.WriteBack{Value: strings.TrimSpace(num)}).Numeric()
				shown = fmt.Sprintf("%s (card %s)", strconv.FormatFloat(n, 'f', -1, 64), v)
				break
			}
		}
		if !ok {
			return 0, "", httpx.Errorf(provider, session.CodeInvalid,
				"card %q is not a number: map word cards to numbers in the session's Azure DevOps settings (values such as XS=1,S=2,M=3)", v)
		}
	}
	if math.IsNaN(n) || math.IsInf(n, 0) || n < 0 {
		return 0, "", httpx.Errorf(provider, session.CodeInvalid, "%q cannot be written: Azure DevOps needs a finite number of zero or more", v)
	}
	return n, shown, nil
}
