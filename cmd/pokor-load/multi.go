package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver, for the run's database
)

// instances reads the figures of several servers of one deployment: each sample is the sum of
// theirs, and each instance keeps its own (before connecting, idle, peak) for the report.
type instances struct {
	probes  []*probe
	insts   []InstanceReport
	samples int
	cpu0    []float64
	lastCPU []float64 // each instance's CPU seconds over the last pair of cpu calls
}

func multiProbe(ps []*probe) *instances {
	return &instances{probes: ps, insts: make([]InstanceReport, len(ps)), lastCPU: make([]float64, len(ps))}
}

// sample reads every instance and returns the sums. The first call is the baseline, the second
// the idle state, later ones count towards each instance's peak.
func (m *instances) sample(ctx context.Context) (serverSample, error) {
	var sum serverSample
	for i, p := range m.probes {
		s, err := p.sample(ctx)
		if err != nil {
			return sum, fmt.Errorf("instance %d (%s): %w", i, p.base, err)
		}
		switch r := &m.insts[i].Server; m.samples {
		case 0:
			r.Baseline = s
		case 1:
			r.Idle, r.Peak = s, s
		default:
			if s.RSS > r.Peak.RSS {
				r.Peak = s
			}
		}
		sum.At = s.At
		sum.RSS += s.RSS
		sum.Threads += s.Threads
		sum.FDs += s.FDs
		sum.CPU += s.CPU
		sum.Goroutines += s.Goroutines
		sum.Connections += s.Connections
		sum.HeapInuse += s.HeapInuse
		sum.StackInuse += s.StackInuse
		sum.NextGC += s.NextGC
		sum.GCs += s.GCs
		sum.GoHeld += s.GoHeld
	}
	m.samples++
	return sum, nil
}

// cpu returns the CPU seconds of all instances; every second call also sets lastCPU, each
// instance's share since the call before.
func (m *instances) cpu() float64 {
	var sum float64
	now := make([]float64, len(m.probes))
	for i, p := range m.probes {
		now[i], _ = procCPU(p.pid)
		sum += now[i]
	}
	if m.cpu0 == nil {
		m.cpu0 = now
	} else {
		for i := range now {
			m.lastCPU[i] = now[i] - m.cpu0[i]
		}
		m.cpu0 = nil
	}
	return sum
}

// freshDatabase creates an empty database named name on the PostgreSQL server of adminURL and
// returns its URL and a function that drops it.
func freshDatabase(ctx context.Context, adminURL, name string) (string, func(), error) {
	db, err := sql.Open("pgx", adminURL)
	if err != nil {
		return "", nil, err
	}
	if _, err := db.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("creating the run's database on %s: %w", redactURL(adminURL), err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		db.Close()
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`); err != nil {
			progress("dropping the run's database %s: %v", name, err)
		}
		db.Close()
	}
	progress("fresh database %s", name)
	return u.String(), drop, nil
}

func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = url.User(u.User.Username())
		return u.String()
	}
	return strings.SplitN(s, "@", 2)[len(strings.SplitN(s, "@", 2))-1]
}
