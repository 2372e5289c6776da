// Package codec models the producer's record-batch compression: the five
// codecs Kafka knows, real compressed sizes from the real algorithms, a CPU
// cost table, Kafka's compression-ratio estimate used for batch sizing, and
// deterministic payload generators that give the codecs realistic input.
//
// Everything here is deterministic: no clocks, no goroutines, and randomness
// only from a caller-supplied *rand.Rand.
package codec

import (
	"fmt"
	"strings"
)

// Codec is a compression type. The numeric values are Kafka's wire ids
// (CompressionType.id: none=0, gzip=1, snappy=2, lz4=3, zstd=4), so a Codec
// can index per-codec tables the way CompressionRatioEstimator does.
type Codec uint8

const (
	None Codec = iota
	Gzip
	Snappy
	LZ4
	Zstd
)

// codecNames are Kafka's configuration names (CompressionType.name).
var codecNames = [...]string{"none", "gzip", "snappy", "lz4", "zstd"}

// Codecs returns every codec in id order.
func Codecs() []Codec { return []Codec{None, Gzip, Snappy, LZ4, Zstd} }

// Parse maps a compression.type value to a Codec. Matching is exact and
// case-sensitive, as in CompressionType.forName.
func Parse(name string) (Codec, error) {
	for i, n := range codecNames {
		if n == name {
			return Codec(i), nil
		}
	}
	return 0, fmt.Errorf("unknown compression type %q (allowed: %s)", name, strings.Join(codecNames[:], ", "))
}

// String returns Kafka's name for the codec.
func (c Codec) String() string {
	if int(c) < len(codecNames) {
		return codecNames[c]
	}
	return fmt.Sprintf("codec(%d)", uint8(c))
}
