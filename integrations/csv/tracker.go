package csv

import "github.com/pokor/pokor/session"

// Tracker describes CSV files to Pokor: stories come from an uploaded file (the room's Import →
// CSV file, `pokor import SESSION_ID FILE.csv`) instead of a query, nothing is written back, and
// sessions export to the same format.
func Tracker() session.Tracker {
	return session.Tracker{
		Name:  provider,
		Label: "CSV",
		Items: "CSV file",
		File: &session.FileFormat{
			Accept: ".csv,text/csv,text/plain",
			Help: "The first line names the columns: title (or summary), and optionally description, url, key and estimate " +
				"(or story points, Jira's “Custom field (Story Points)”). Rows with a key update the story imported with that key " +
				"before; an estimate is shown as the story's imported estimate. Jira's “Export Excel CSV” works as it is.",
			Parse: Parse,
			Write: WriteSession,
		},
		Credentials: []session.Field{},
		Options:     []session.Option{},
		Docs:        "docs/trackers.md#csv",
	}
}
