// Package workflow holds what the tracker adapters share about how teams mark the state of their
// work in trackers without a workflow of their own (labels on GitHub and GitLab issues).
package workflow

import "regexp"

// InProgress recognises the labels teams put on an issue when work starts: "in progress",
// "status: in-progress", "workflow::In Progress", "WIP", "doing", "started".
var InProgress = regexp.MustCompile(`(?i)(^|[^a-z])(in[ _-]?progress|wip|doing|started)([^a-z]|$)`)
