package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	hSlash       = "slash"        // a scheduled /pokor command until its answer is read
	cSlashSent   = "slash_sent"   // commands sent
	cSlashFailed = "slash_failed" // commands not answered with the organizer's link
)

// newSigningSecret returns a Slack signing secret for a server the generator starts.
func newSigningSecret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// slackSign signs a request body as Slack does: "v0=" + hex(HMAC-SHA256(secret, "v0:ts:body")).
func slackSign(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// runSlash sends signed /pokor commands to the server at rate a second for d, on an open-loop
// schedule: each command goes at its time whether or not the previous ones were answered, and
// its latency counts from that time. Each one creates a session, durably, as Slack's would.
func runSlash(ctx context.Context, base, secret string, rate float64, d time.Duration, m *metrics) {
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer hc.CloseIdleConnections()
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now().Add(100 * time.Millisecond)
	var wg sync.WaitGroup
	for k := 0; ; k++ {
		sched := start.Add(time.Duration(k) * interval)
		if sched.Sub(start) >= d || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Until(sched))
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.add(cSlashSent, 1)
			if err := slashOnce(ctx, hc, base, secret, k); err != nil {
				m.add(cSlashFailed, 1)
				if m.count(cSlashFailed) <= 5 {
					progress("slash command: %v", err)
				}
				return
			}
			m.record(hSlash, time.Since(sched))
		}()
	}
	wg.Wait()
}

func slashOnce(ctx context.Context, hc *http.Client, base, secret string, k int) error {
	form := url.Values{
		"team_id": {"T0001"}, "team_domain": {"load"}, "channel_id": {"C2147483705"}, "channel_name": {"planning"},
		"user_id": {fmt.Sprintf("U%07d", k%1000)}, "user_name": {"load"}, "command": {"/pokor"},
		"text": {"Sprint " + strconv.Itoa(k)}, "response_url": {"https://hooks.slack.com/commands/T0001/1/x"},
		"trigger_id": {"load." + strconv.Itoa(k) + "." + strconv.FormatInt(time.Now().UnixNano(), 36)},
	}
	body := []byte(form.Encode())
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/slack/commands", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", slackSign(secret, ts, body))
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	rb, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK || !strings.Contains(string(rb), "Join as organizer") {
		return fmt.Errorf("%s: %.200s", res.Status, rb)
	}
	return nil
}
