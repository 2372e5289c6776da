package codec

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy/xerial"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		want    Codec
		wantErr bool
	}{
		{"none", None, false},
		{"gzip", Gzip, false},
		{"snappy", Snappy, false},
		{"lz4", LZ4, false},
		{"zstd", Zstd, false},
		{"GZIP", 0, true}, // CompressionType.forName is case-sensitive
		{"", 0, true},
		{"lz4hc", 0, true},
		{" zstd", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.name)
			if tt.wantErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "none, gzip, snappy, lz4, zstd")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.name, got.String())
		})
	}
	assert.Equal(t, "codec(9)", Codec(9).String())
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"none", "gzip", "zstd", "Zstd", "", "lz4\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			assert.Contains(t, err.Error(), "allowed")
			return
		}
		assert.Equal(t, s, c.String())
	})
}

// batchOf concatenates generated 200-byte values up to size bytes, the way a
// producer batch of small records looks to the compressor.
func batchOf(k ValueKind, size int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	batch := make([]byte, 0, size)
	v := make([]byte, 200)
	for i := 0; len(batch) < size; i++ {
		n := min(len(v), size-len(batch))
		batch = append(batch, k.Fill(v[:n], rng, i)...)
	}
	return batch
}

// decode uses each format's own reader, independent of this package, so a
// successful round trip shows the framing is what those readers expect.
func decode(t *testing.T, c Codec, b []byte) []byte {
	t.Helper()
	switch c {
	case Gzip:
		r, err := gzip.NewReader(bytes.NewReader(b))
		require.NoError(t, err)
		out, err := io.ReadAll(r)
		require.NoError(t, err)
		return out
	case Snappy:
		out, err := xerial.Decode(b)
		require.NoError(t, err)
		return out
	case LZ4:
		out, err := io.ReadAll(lz4.NewReader(bytes.NewReader(b)))
		require.NoError(t, err)
		return out
	case Zstd:
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
		require.NoError(t, err)
		defer d.Close()
		out, err := d.DecodeAll(b, nil)
		require.NoError(t, err)
		return out
	default:
		return b
	}
}

func TestCompressRoundTrip(t *testing.T) {
	// 100 KiB spans several snappy (32 KiB) and lz4 (64 KiB) blocks.
	sizes := []int{0, 1, 200, 16 << 10, 100 << 10}
	prefix := []byte("keep")
	for _, c := range Codecs() {
		x := NewCompressor(c) // reused across inputs, as the producer will
		require.Equal(t, c, x.Codec())
		for _, k := range []ValueKind{JSON, Text, Random} {
			for _, size := range sizes {
				src := batchOf(k, size, 1)
				dst := x.Compress(append([]byte(nil), prefix...), src)
				require.True(t, bytes.HasPrefix(dst, prefix), "%s appends to dst", c)
				got := decode(t, c, dst[len(prefix):])
				assert.Equal(t, len(src), len(got), "%s %s %d", c, k, size)
				assert.True(t, bytes.Equal(src, got), "%s %s %d round trip", c, k, size)
			}
		}
	}
}

func TestLZ4FrameMatchesKafka(t *testing.T) {
	// A reference writer configured like Lz4BlockOutputStream (64 KiB
	// blocks, no checksums) must emit the same 7-byte frame header.
	var ref bytes.Buffer
	w := lz4.NewWriter(&ref)
	require.NoError(t, w.Apply(lz4.BlockSizeOption(lz4.Block64Kb), lz4.ChecksumOption(false),
		lz4.BlockChecksumOption(false), lz4.ConcurrencyOption(1)))
	_, err := w.Write([]byte("x"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	out := NewCompressor(LZ4).Compress(nil, []byte("x"))
	assert.Equal(t, ref.Bytes()[:7], out[:7])

	// Incompressible input is stored raw with the high bit set in the block
	// length, then the zero end mark: header + 4 + n + 4.
	src := batchOf(Random, 16<<10, 3)
	out = NewCompressor(LZ4).Compress(nil, src)
	require.Len(t, out, 7+4+len(src)+4)
	assert.Equal(t, uint32(len(src))|0x80000000, binary.LittleEndian.Uint32(out[7:]))
	assert.Equal(t, []byte{0, 0, 0, 0}, out[len(out)-4:])
}

func TestSnappyFramingBlocks(t *testing.T) {
	src := batchOf(Text, 100<<10, 1)
	out := NewCompressor(Snappy).Compress(nil, src)
	require.Greater(t, len(out), 16)
	assert.Equal(t, []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1}, out[:16])
	// Walk the length-prefixed blocks: 100 KiB in 32 KiB blocks is 4 blocks.
	blocks := 0
	for p := 16; p < len(out); blocks++ {
		require.LessOrEqual(t, p+4, len(out))
		p += 4 + int(binary.BigEndian.Uint32(out[p:]))
		require.LessOrEqual(t, p, len(out))
	}
	assert.Equal(t, 4, blocks)
}

// ratio compresses a 16 KiB batch of 200-byte values.
func ratio(c Codec, k ValueKind) float64 {
	src := batchOf(k, 16<<10, 1)
	return float64(len(NewCompressor(c).Compress(nil, src))) / float64(len(src))
}

func TestCompressionRatios(t *testing.T) {
	for _, c := range Codecs()[1:] {
		r := ratio(c, Random)
		assert.GreaterOrEqual(t, r, 1.0, "%s cannot shrink random bytes", c)
		assert.Less(t, r, 1.01, "%s framing overhead on random bytes stays small", c)
		assert.Less(t, ratio(c, JSON), 0.4, "%s compresses json", c)
		assert.Less(t, ratio(c, Text), 0.8, "%s compresses text", c)
	}
	// Entropy coding (gzip, zstd) beats pure LZ (lz4, snappy) clearly on both.
	for _, k := range []ValueKind{JSON, Text} {
		fast := min(ratio(LZ4, k), ratio(Snappy, k))
		assert.Less(t, ratio(Gzip, k), 0.8*fast, "gzip vs lz4/snappy on %s", k)
		assert.Less(t, ratio(Zstd, k), 0.8*fast, "zstd vs lz4/snappy on %s", k)
	}
	assert.Equal(t, 1.0, ratio(None, JSON))
}

func TestCompressDeterministic(t *testing.T) {
	for _, c := range Codecs() {
		src := batchOf(JSON, 16<<10, 5)
		a := NewCompressor(c).Compress(nil, src)
		x := NewCompressor(c)
		x.Compress(nil, batchOf(Text, 30<<10, 9)) // earlier use must not leak into later output
		b := x.Compress(nil, src)
		assert.Equal(t, a, b, "%s", c)
	}
}

func TestCompressAllocations(t *testing.T) {
	src := batchOf(JSON, 16<<10, 1)
	for _, c := range Codecs() {
		x := NewCompressor(c)
		dst := x.Compress(nil, src)
		allocs := testing.AllocsPerRun(20, func() { dst = x.Compress(dst[:0], src) })
		assert.Zero(t, allocs, "%s with a reused dst", c)
	}
}

func TestCostTable(t *testing.T) {
	rows := CostTable()
	require.Len(t, rows, len(Codecs()))
	for i, r := range rows {
		assert.Equal(t, Codec(i), r.Codec)
		assert.NotEmpty(t, r.Source)
	}
	rows[1].CompressMBps = 0
	assert.NotZero(t, CostTable()[1].CompressMBps, "CostTable returns a copy")

	tests := []struct {
		c                Codec
		compress, decomp time.Duration
	}{
		{None, 0, 0},
		{Gzip, 39_525_691, 2_906_976},         // 1e6 B at 25.3 and 344 MB/s
		{Snappy, 2_493_765, 928_505},          // 401, 1077
		{LZ4, 1_727_115, 268_240},             // 579, 3728
		{Zstd, 4 * time.Millisecond, 826_446}, // 250, 1210
	}
	for _, tt := range tests {
		assert.Equal(t, tt.compress, tt.c.CompressCost(1_000_000), "%s compress", tt.c)
		assert.Equal(t, tt.decomp, tt.c.DecompressCost(1_000_000), "%s decompress", tt.c)
		assert.Zero(t, tt.c.CompressCost(0))
	}
	assert.Zero(t, Codec(42).CompressCost(100))
}

func BenchmarkCompress(b *testing.B) {
	src := batchOf(JSON, 16<<10, 1)
	for _, c := range Codecs() {
		b.Run(c.String(), func(b *testing.B) {
			x := NewCompressor(c)
			dst := x.Compress(nil, src)
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				dst = x.Compress(dst[:0], src)
			}
			b.ReportMetric(float64(len(dst))/float64(len(src)), "ratio")
		})
	}
}
