package main

import (
	"context"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/session/redisbus"
)

// openRedis makes the instances share room events, presence and join requests through Redis
// when POKOR_REDIS_URL is set; without it they stay in this process (one instance).
func (m *Main) openRedis(cfg *session.Config) error {
	url := m.Config.Get("POKOR_REDIS_URL")
	if url == "" {
		return nil
	}
	prefix := m.Config.Get("POKOR_REDIS_PREFIX")
	bus, err := redisbus.New(redisbus.Options{URL: url, Prefix: prefix, Hub: m.Hub, Logger: m.Log, Instance: m.Instance})
	if err != nil {
		return err
	}
	cfg.Bus, cfg.Presence = bus, bus
	cfg.Approvals = redisbus.NewApprovals(bus.Client(), prefix)
	m.WrapPresence(bus.TrackPresence)
	m.OnReady(func(context.Context) error { return bus.Ready() })
	m.OnStart(bus.Run)
	m.OnDrain(bus.Drain)
	m.OnClose(bus.Close)
	return nil
}
