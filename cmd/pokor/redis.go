package main

import (
	"context"

	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/session/redisbus"
)

// With POKOR_REDIS_URL the instances share room events, presence and join requests through Redis;
// without it they stay in this process (one instance).
func init() {
	serviceHooks = append(serviceHooks, func(_ context.Context, m *Main, cfg *session.Config) error {
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
	})
}
