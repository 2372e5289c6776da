package broker

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseVersion(t *testing.T) {
	for _, v := range Versions {
		got, err := ParseVersion(v.String())
		require.NoError(t, err, v.String())
		assert.Equal(t, v, got)
	}
	got, err := ParseVersion("3.7")
	require.NoError(t, err)
	assert.Equal(t, Version{Major: 3, Minor: 7}, got)

	for _, bad := range []string{"", "2.8", "3.10", "4.5", "3", "4", "3.7.0", " 3.7", "3.7 ", "03.7", "3.07", "+3.7", "v3.7", "3.-7", "4.0x"} {
		_, err := ParseVersion(bad)
		require.Error(t, err, "%q", bad)
		assert.Equal(t, `"`+bad+`" is not a modelled Kafka version; use one of 3.6, 3.7, 3.8, 3.9, 4.0, 4.1, 4.2, 4.3, 4.4`, err.Error())
	}
}

func TestVersionOrder(t *testing.T) {
	for i, v := range Versions {
		for j, w := range Versions {
			assert.Equal(t, i >= j, v.AtLeast(w.Major, w.Minor), "%v at least %v", v, w)
		}
	}
	assert.True(t, Version{4, 0}.AtLeast(3, 9), "a major release is later than every minor one before it")
	assert.False(t, Version{3, 9}.AtLeast(4, 0))
	assert.Contains(t, Versions, DefaultVersion)
}

// FuzzParseVersion: whatever the text, ParseVersion gives a modelled
// version written exactly that way, or an error on one line that quotes it.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"3.6", "4.1", "", "3.10", "03.7", "3.7.0", "-1.-1", "٣.٧"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
			return
		}
		if v.String() != s {
			t.Fatalf("%q parsed as %v", s, v)
		}
		if !slices.Contains(Versions, v) {
			t.Fatalf("%q parsed as %v, which is not modelled", s, v)
		}
	})
}
