package codec

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseValueKind(t *testing.T) {
	tests := []struct {
		name    string
		want    ValueKind
		wantErr bool
	}{
		{"json", JSON, false},
		{"text", Text, false},
		{"random", Random, false},
		{"JSON", 0, true},
		{"", 0, true},
		{"binary", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseValueKind(tt.name)
			if tt.wantErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "json, text, random")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.name, got.String())
		})
	}
}

func FuzzParseValueKind(f *testing.F) {
	for _, s := range []string{"json", "text", "random", "Text", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseValueKind(s)
		if err != nil {
			assert.Contains(t, err.Error(), "allowed")
			return
		}
		assert.Equal(t, s, k.String())
	})
}

func newRng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 7)) }

func TestFillExactLength(t *testing.T) {
	for _, k := range []ValueKind{JSON, Text, Random} {
		for _, n := range []int{0, 1, 7, 13, 100, 200, 383, 384, 1000, 5000} {
			dst := bytes.Repeat([]byte{0xff}, n)
			got := k.Fill(dst, newRng(1), 3)
			require.Len(t, got, n, "%s %d", k, n)
			if k != Random {
				assert.NotContains(t, string(got), "\xff", "%s %d leaves no byte unwritten", k, n)
			}
		}
	}
}

func TestFillJSONShape(t *testing.T) {
	// Learn the length of the event the seed produces, then ask for sizes
	// that take each path: cut, space padding, and a prose "note" field.
	var buf [jsonEventMax]byte
	ev := appendEvent(buf[:0], newRng(4), 10)
	require.True(t, json.Valid(ev), "%s", ev)
	for _, n := range []int{len(ev), len(ev) + 3, len(ev) + 11, len(ev) + 12, len(ev) + 500, 4096} {
		got := JSON.Fill(make([]byte, n), newRng(4), 10)
		assert.True(t, json.Valid(got), "size %d: %s", n, got)
		assert.True(t, bytes.HasPrefix(got, []byte(`{"order_id":10000010,`)), "%s", got)
	}
	cut := JSON.Fill(make([]byte, len(ev)-5), newRng(4), 10)
	assert.Equal(t, ev[:len(ev)-5], cut)
}

func TestFillTextShape(t *testing.T) {
	got := Text.Fill(make([]byte, 2000), newRng(2), 0)
	assert.True(t, got[0] >= 'A' && got[0] <= 'Z', "starts a sentence: %q", got[:20])
	for _, b := range got {
		ok := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == ' ' || b == ',' || b == '.'
		require.True(t, ok, "unexpected byte %q", b)
	}
	assert.Greater(t, bytes.Count(got, []byte(". ")), 10, "several sentences")
}

func TestFillDeterministic(t *testing.T) {
	for _, k := range []ValueKind{JSON, Text, Random} {
		a := k.Fill(make([]byte, 300), newRng(11), 5)
		b := k.Fill(make([]byte, 300), newRng(11), 5)
		c := k.Fill(make([]byte, 300), newRng(12), 5)
		assert.Equal(t, a, b, "%s same seed", k)
		assert.NotEqual(t, a, c, "%s different seed", k)
	}
	// Whole batches, and their compressed sizes, repeat too.
	assert.Equal(t, batchOf(Text, 16<<10, 3), batchOf(Text, 16<<10, 3))
	x := NewCompressor(Zstd)
	assert.Equal(t, len(x.Compress(nil, batchOf(JSON, 16<<10, 3))), len(x.Compress(nil, batchOf(JSON, 16<<10, 3))))
}

func TestFillNoAllocations(t *testing.T) {
	dst := make([]byte, 1000)
	rng := newRng(1)
	for _, k := range []ValueKind{JSON, Text, Random} {
		allocs := testing.AllocsPerRun(50, func() { k.Fill(dst, rng, 1) })
		assert.Zero(t, allocs, "%s", k)
	}
}

func BenchmarkFill(b *testing.B) {
	for _, k := range []ValueKind{JSON, Text, Random} {
		b.Run(k.String(), func(b *testing.B) {
			dst := make([]byte, 200)
			rng := newRng(1)
			b.SetBytes(int64(len(dst)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				k.Fill(dst, rng, i)
				i++
			}
		})
	}
}
