package querytext

import (
	"errors"
	"reflect"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  error
	}{
		{in: `acme/api label:ready`, want: []string{"acme/api", "label:ready"}},
		{in: `  milestone:"v2 beta"   "label:needs design" `, want: []string{"milestone:v2 beta", "label:needs design"}},
		{in: `iteration:“Fabrikam\Sprint 5”`, want: []string{`iteration:Fabrikam\Sprint 5`}},
		{in: `state:""`, want: []string{"state:"}},
		{in: ``, want: nil},
		{in: `milestone:"v2`, err: ErrOpenQuote},
	} {
		got, err := Split(tc.in)
		if !errors.Is(err, tc.err) || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Split(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}
