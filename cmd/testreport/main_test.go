package main

import (
	"bytes"
	"strings"
	"testing"
)

// A stream as `go test -json` writes it: a pass, a skip with a reason, a failure with its output,
// a skip without a reason and a package that does not build.
const stream = `{"Action":"start","Package":"example.com/a"}
{"Action":"run","Package":"example.com/a","Test":"TestOK"}
{"Action":"output","Package":"example.com/a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"output","Package":"example.com/a","Test":"TestOK","Output":"    a_test.go:9: noise of a passing test\n"}
{"Action":"pass","Package":"example.com/a","Test":"TestOK"}
{"Action":"output","Package":"example.com/a","Test":"TestBrowser","Output":"=== RUN   TestBrowser\n"}
{"Action":"output","Package":"example.com/a","Test":"TestBrowser","Output":"    browser_test.go:31: skipping: Chromium is not installed\n"}
{"Action":"output","Package":"example.com/a","Test":"TestBrowser","Output":"--- SKIP: TestBrowser (0.00s)\n"}
{"Action":"skip","Package":"example.com/a","Test":"TestBrowser"}
{"Action":"output","Package":"example.com/a","Test":"TestBroken","Output":"=== RUN   TestBroken\n"}
{"Action":"output","Package":"example.com/a","Test":"TestBroken","Output":"    a_test.go:20: got 3, want 5\n"}
{"Action":"output","Package":"example.com/a","Test":"TestBroken","Output":"--- FAIL: TestBroken (0.00s)\n"}
{"Action":"fail","Package":"example.com/a","Test":"TestBroken"}
{"Action":"output","Package":"example.com/a","Test":"TestOther","Output":"--- SKIP: TestOther (0.00s)\n"}
{"Action":"skip","Package":"example.com/a","Test":"TestOther"}
{"Action":"output","Package":"example.com/a","Output":"FAIL\texample.com/a\t0.01s\n"}
{"Action":"fail","Package":"example.com/a"}
{"ImportPath":"example.com/b [example.com/b.test]","Action":"build-output","Output":"b/b.go:3:1: syntax error\n"}
{"Action":"output","Package":"example.com/c","Test":"TestC","Output":"    c_test.go:5: skipping: Chromium is not installed\n"}
{"Action":"skip","Package":"example.com/c","Test":"TestC"}
`

func TestReport(t *testing.T) {
	var out bytes.Buffer
	r := NewReport(&out)
	if err := r.Read(strings.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	r.Summary()
	got := out.String()
	for _, want := range []string{
		"a_test.go:20: got 3, want 5",
		"--- FAIL: TestBroken",
		"FAIL\texample.com/a",
		"b/b.go:3:1: syntax error",
		"Skipped tests (3):\n  (no reason given)\n    example.com/a.TestOther\n  skipping: Chromium is not installed\n    example.com/a.TestBrowser\n    example.com/c.TestC\n",
		"Failed packages: example.com/a\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the report lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "noise of a passing test") {
		t.Errorf("the report shows a passing test's output:\n%s", got)
	}
	if !strings.HasSuffix(got, "\n1 passed, 1 failed, 3 skipped\n") {
		t.Errorf("the closing line:\n%s", got)
	}
}
