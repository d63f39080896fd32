package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// finish derives the per-connection figures and checks the targets of the issue.
func (rep *Report) finish() {
	s := &rep.Server
	conns := float64(rep.Counts[cConnected])
	if conns > 0 {
		s.RSSPerConn = round1(float64(s.Idle.RSS-s.Baseline.RSS) / conns / 1024)
		s.HeapPerConn = round1(float64(s.Idle.HeapInuse-s.Baseline.HeapInuse) / conns / 1024)
		s.StackPer = round1(float64(s.Idle.StackInuse-s.Baseline.StackInuse) / conns / 1024)
		s.GorPerConn = round1(float64(s.Idle.Goroutines-s.Baseline.Goroutines) / conns)
	}
	c := rep.Counts
	lost := c[cLostVoted] + c[cLostRevealed]
	rep.Targets = append(rep.Targets, Target{
		Name: "connections",
		Goal: fmt.Sprintf("%d room connections held %s, no connection failure, no lost event", rep.Connections, rep.Duration),
		Measured: fmt.Sprintf("%d connected, %d failed, %d dropped, %d events lost", c[cConnected],
			c[cConnectFailures]+c[cSetupFailures]*int64(rep.Members), c[cDisconnects], lost),
		Pass: c[cConnected] == int64(rep.Connections) && c[cConnectFailures] == 0 && c[cSetupFailures] == 0 && c[cDisconnects] == 0 && lost == 0,
	})
	mem := Target{
		Name:     "memory",
		Goal:     "≤ 10 KB server RSS per connection",
		Measured: fmt.Sprintf("%.1f KB", s.RSSPerConn),
		Pass:     conns > 0 && s.RSSPerConn <= 10,
	}
	if conns < memoryCheckedFrom {
		// A few thousand connections do not pay for the fixed costs they bring (SQLite's page
		// caches, the heap's working size): the figure says little about a connection's cost.
		mem.Skipped, mem.Measured = true, mem.Measured+fmt.Sprintf(" (checked from %d connections)", memoryCheckedFrom)
	}
	rep.Targets = append(rep.Targets, mem)
	// Several instances: every room is split across them, so every vote crosses instances
	// through the bus; the issue allows 150 ms there, and 2 s for the storm.
	voteGoal, stormGoal, across := 50.0, 1000.0, ""
	if len(rep.Instances) > 1 {
		voteGoal, stormGoal, across = 150, 2000, fmt.Sprintf(" across %d instances", len(rep.Instances))
	}
	if rep.VoteGoalMS > 0 {
		voteGoal = rep.VoteGoalMS
	}
	if v, ok := rep.Latency[hVoteRoom]; ok {
		want := float64(rep.Rooms) * rep.VoteRate
		rep.Targets = append(rep.Targets, Target{
			Name:     "votes",
			Goal:     fmt.Sprintf("vote → whole room%s p99 ≤ %.0f ms at %.0f durable votes/s", across, voteGoal, want),
			Measured: fmt.Sprintf("p99 %.1f ms at %.0f votes/s", v.P99, rep.VotesPerSecond),
			Pass:     v.P99 <= voteGoal && rep.VotesPerSecond >= 0.98*want && c[cVotesFailed] == 0 && c[cVotesUnanswered] == 0,
		})
	}
	if v, ok := rep.Latency[hSlash]; ok {
		rep.Targets = append(rep.Targets, Target{
			Name:     "slash command",
			Goal:     fmt.Sprintf("/pokor (signature, session created, answer) p99 < 10 ms at %g a second", rep.SlashRate),
			Measured: fmt.Sprintf("p99 %.1f ms (p50 %.1f ms), %d of %d failed", v.P99, v.P50, c[cSlashFailed], c[cSlashSent]),
			Pass:     v.P99 < 10 && c[cSlashFailed] == 0,
		})
	}
	if v, ok := rep.Latency[hStormRoom]; ok {
		rep.Targets = append(rep.Targets, Target{
			Name:     "reveal storm",
			Goal:     fmt.Sprintf("reveal in all %d rooms at once%s reaches the last member within %.0f s", rep.Rooms, across, stormGoal/1000),
			Measured: fmt.Sprintf("last member after %.0f ms (room p50 %.0f ms, p99 %.0f ms)", v.Max, v.P50, v.P99),
			Pass:     v.Max <= stormGoal && v.Count == c[cRooms] && c[cLostRevealed] == 0,
		})
	}
}

// memoryCheckedFrom is the number of connections from which the memory target is checked: the
// issue's reference figures were measured with 8,000 idle connections.
const memoryCheckedFrom = 8000

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// printReport prints the figures of one run as tables.
func printReport(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "\nPokor load: %d rooms × %d members (1 organizer, %d voters, %d spectators) = %d connections, %d processes\n",
		rep.Rooms, rep.Members, rep.Members-1-rep.Spectators, rep.Spectators, rep.Connections, rep.Processes)
	fmt.Fprintf(w, "play %s at %g votes per room per second; %s, %d CPUs, %s, Linux %s, %s\n\n",
		rep.Duration, rep.VoteRate, rep.Machine.CPU, rep.Machine.CPUs, rep.Machine.Memory, rep.Machine.Kernel, rep.Machine.Go)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "latency (ms)\tcount\tp50\tp90\tp99\tp99.9\tmax\t")
	for _, name := range histOrder {
		s, ok := rep.Latency[name]
		if !ok {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", histTitles[name], s.Count, s.P50, s.P90, s.P99, s.P999, s.Max)
	}
	tw.Flush()
	c := rep.Counts
	fmt.Fprintf(w, "\nevents: %d votes sent, %d acknowledged (%.0f/s), %d refused, %d unanswered; %d reveals; %d deliveries; lost %d voted + %d revealed; %d late rounds\n",
		c[cVotesSent], c[cVotesOK], rep.VotesPerSecond, c[cVotesFailed], c[cVotesUnanswered], c[cReveals], c[cDeliveries], c[cLostVoted], c[cLostRevealed], c[cLateRounds])
	fmt.Fprintf(w, "connections: %d connected, %d failed to connect, %d dropped by the server, %d rooms failed setup\n",
		c[cConnected], c[cConnectFailures], c[cDisconnects], c[cSetupFailures])
	if rep.SlashRate > 0 {
		fmt.Fprintf(w, "slash commands: %d sent at %g a second, %d failed\n", c[cSlashSent], rep.SlashRate, c[cSlashFailed])
	}
	s := rep.Server
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "server\tRSS\theap in use\tstacks\tgoroutines\tthreads\tfds\tconnections\t")
	for _, row := range []struct {
		name string
		s    serverSample
	}{{"before connecting", s.Baseline}, {"connected, idle", s.Idle}, {"peak (play, storm)", s.Peak}} {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t\n", row.name, mib(row.s.RSS), mib(row.s.HeapInuse), mib(row.s.StackInuse),
			row.s.Goroutines, row.s.Threads, row.s.FDs, row.s.Connections)
	}
	tw.Flush()
	fmt.Fprintf(w, "per connection: %.1f KB RSS (%.1f KB heap, %.1f KB stack), %.1f goroutines; CPU while voting: server %.0f%%, generator %.0f%% of one core\n\n",
		s.RSSPerConn, s.HeapPerConn, s.StackPer, s.GorPerConn, s.CPUPlay, s.GenCPUPlay)
	if len(rep.Instances) > 1 {
		printInstances(w, rep)
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "target\tgoal\tmeasured\t")
	for _, t := range rep.Targets {
		mark := "MISS"
		switch {
		case t.Skipped:
			mark = "--"
		case t.Pass:
			mark = "ok"
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t\n", mark, t.Name, t.Goal, t.Measured)
	}
	tw.Flush()
}

// printGrowth prints one line per step, so that a reader sees how cost grows with work.
func printGrowth(w io.Writer, reps []*Report) {
	fmt.Fprintln(w, "\nCost as work grows")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "connections\trooms\tvotes/s\tRSS idle\tKB/conn\tKB/added conn\tgoroutines\tserver CPU\tvote→room p50\tp99\tstorm max\tconnect p99\tlost\tfailures\t")
	for i, r := range reps {
		// What each connection added since the previous step: the fixed costs that the first
		// connections bring (SQLite's page caches, the heap's minimum size) are not in it.
		added := "-"
		if i > 0 && r.Connections > reps[i-1].Connections {
			added = fmt.Sprintf("%.1f", float64(r.Server.Idle.RSS-reps[i-1].Server.Idle.RSS)/float64(r.Connections-reps[i-1].Connections)/1024)
		}
		vr, st, cn := r.Latency[hVoteRoom], r.Latency[hStormRoom], r.Latency[hConnect]
		c := r.Counts
		fmt.Fprintf(tw, "%d\t%d\t%.0f\t%s\t%.1f\t%s\t%d\t%.0f%%\t%.1f ms\t%.1f ms\t%.0f ms\t%.0f ms\t%d\t%d\t\n",
			r.Connections, r.Rooms, r.VotesPerSecond, mib(r.Server.Idle.RSS), r.Server.RSSPerConn, added, r.Server.Idle.Goroutines,
			r.Server.CPUPlay, vr.P50, vr.P99, st.Max, cn.P99, c[cLostVoted]+c[cLostRevealed],
			c[cConnectFailures]+c[cDisconnects]+c[cVotesFailed]+c[cVotesUnanswered])
	}
	tw.Flush()
}

// printInstances prints each instance's share: its process, the votes its members cast (ack)
// and the deliveries to the members connected to it, which came from every instance.
func printInstances(w io.Writer, rep *Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "instance\tRSS idle\tRSS peak\tconnections\tCPU voting\tvote → ack p50\tp99\tdelivery here p50\tp99\t")
	for i, in := range rep.Instances {
		ack, del := in.Latency[hVoteAck], in.Latency[hVoteDelivery]
		fmt.Fprintf(tw, "%d %s\t%s\t%s\t%d\t%.0f%%\t%.1f ms\t%.1f ms\t%.1f ms\t%.1f ms\t\n", i, in.URL, mib(in.Server.Idle.RSS), mib(in.Server.Peak.RSS),
			in.Server.Idle.Connections, in.Server.CPUPlay, ack.P50, ack.P99, del.P50, del.P99)
	}
	fmt.Fprintf(tw, "total\t%s\t%s\t%d\t%.0f%%\t\t\t\t\t\n", mib(rep.Server.Idle.RSS), mib(rep.Server.Peak.RSS), rep.Server.Idle.Connections, rep.Server.CPUPlay)
	tw.Flush()
	fmt.Fprintln(w)
}
