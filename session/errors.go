package session

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error so each adapter (HTTP, WebSocket, Slack, Discord) can map it once.
type Code string

// The error codes of the domain.
const (
	CodeInvalid     Code = "invalid"     // the input is wrong; the message says what to change
	CodeNotFound    Code = "not_found"   // the session, story or participant does not exist
	CodeForbidden   Code = "forbidden"   // the caller may not do this
	CodeConflict    Code = "conflict"    // the state changed under the caller (round already revealed)
	CodeUnavailable Code = "unavailable" // a dependency is down; try again
	CodeInternal    Code = "internal"    // a bug or an unexpected failure; details are logged, not shown
)

// Error is the domain's error: a code and a message that is safe to show to a user.
type Error struct {
	Code    Code
	Message string
	// Field names the input at fault, when there is one ("name", "card").
	Field string
	// RetryAfter is how long a dependency (a tracker) asked to wait before the next attempt; it
	// is set on CodeUnavailable errors only, which are the retryable ones (see Retryable).
	RetryAfter time.Duration
	// Choices lists what an organizer may pick from, on a CodeConflict that asks for a choice.
	Choices []Choice
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil && e.Code == CodeInternal {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// invalid returns an invalid-input error naming the field.
func invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// internal wraps an unexpected error; its cause is logged by the adapters, never shown.
func internal(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Code: CodeInternal, Message: "internal error while " + op, Err: err}
}

// ErrNotFound is returned by stores when a row does not exist.
var ErrNotFound = &Error{Code: CodeNotFound, Message: "not found"}

// ErrorCode returns the code of err: CodeInternal for errors that are not *Error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the message of err that is safe to show a user.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != CodeInternal {
		return e.Message
	}
	return "something went wrong on our side; please try again"
}

// notFound returns a not-found error for a kind of thing.
func notFound(what string) *Error {
	return &Error{Code: CodeNotFound, Message: what + " not found"}
}
