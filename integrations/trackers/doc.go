// Package trackers holds the end-to-end tests of the tracker seam: Pokor wired as cmd/pokor
// wires it (SQLite store, service with the trackers' descriptors, the write-back worker and the
// web server) against a fake GitHub, driven over the JSON API, the WebSocket and a real browser.
// The trackers themselves live in their own packages (github, jira, notion, csv) and are listed
// in cmd/pokor/main.go.
package trackers
