//go:build !linux

package webui

// usePoller has no effect here: connections read with a goroutine each.
var usePoller = false

// startReading has the connection's messages read and handled as they arrive.
func startReading(c *conn) { go c.readBlocking() }

// stopReading has nothing to do: closing the connection ends its reader.
func stopReading(*conn) {}
