package codec

import (
	"compress/gzip"
	"encoding/binary"
	"fmt"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Kafka's default levels (CompressionType, KIP-390 compression.<codec>.level).
const (
	// GzipLevel: CompressionType.GZIP.DEFAULT_LEVEL is Deflater.DEFAULT_COMPRESSION
	// (-1), which zlib maps to level 6.
	GzipLevel = 6
	// LZ4Level: CompressionType.LZ4.DEFAULT_LEVEL. Lz4BlockOutputStream uses
	// lz4-java's fast compressor (not LZ4 HC) when the level equals this default.
	LZ4Level = 9
	// ZstdLevel: CompressionType.ZSTD.DEFAULT_LEVEL (ZSTD_CLEVEL_DEFAULT).
	ZstdLevel = 3
)

// Framing constants of the Java client's streams.
const (
	// Lz4BlockOutputStream: BLOCKSIZE_64KB, independent blocks, no block or
	// content checksum, no content size.
	lz4BlockSize      = 64 << 10
	lz4Incompressible = 0x80000000 // LZ4_FRAME_INCOMPRESSIBLE_MASK
	// snappy-java SnappyOutputStream (used by SnappyCompression):
	// DEFAULT_BLOCK_SIZE is 32 KiB.
	snappyBlockSize = 32 << 10
)

// lz4FrameHeader is what Lz4BlockOutputStream.writeHeader emits: the magic
// 0x184D2204 little-endian, FLG 0x60 (version 1, independent blocks), BD 0x40
// (64 KiB blocks) and the header checksum byte (xxhash32(FLG,BD)>>8), which is
// constant because FLG and BD are.
var lz4FrameHeader = []byte{0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82}

// snappyStreamHeader is snappy-java's SnappyCodec header: MAGIC_HEADER
// (-126 'S' 'N' 'A' 'P' 'P' 'Y' 0) then DEFAULT_VERSION=1 and
// MINIMUM_COMPATIBLE_VERSION=1 as big-endian ints.
var snappyStreamHeader = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1}

// Compressor compresses whole record-batch bodies with one codec, holding the
// reusable encoder state (a zstd encoder is expensive to create). Output has
// the container framing the Java client writes, so its size is realistic and
// it decodes with standard readers.
//
// Where the bytes differ from Kafka's: the Go encoders are not the native
// libraries the JVM uses (JDK zlib, snappy C++ via snappy-java, lz4-java,
// zstd-jni), so match finding, and therefore the exact bytes, differ slightly;
// gzip's OS header byte differs; zstd frames here carry the content size that
// zstd-jni's streaming writer omits (a few bytes). Sizes are close, not equal.
//
// A Compressor is not safe for concurrent use; the simulator is single-threaded.
type Compressor struct {
	codec Codec
	out   sliceWriter
	gz    *gzip.Writer
	lz    lz4.Compressor
	zs    *zstd.Encoder
}

// NewCompressor returns a Compressor for c at Kafka's default level.
func NewCompressor(c Codec) *Compressor {
	x := &Compressor{codec: c}
	switch c {
	case None, Snappy, LZ4:
	case Gzip:
		w, err := gzip.NewWriterLevel(&x.out, GzipLevel)
		if err != nil {
			panic(err) // level is a valid constant
		}
		x.gz = w
	case Zstd:
		// One goroutine-free encoder: concurrency 1 keeps output deterministic.
		// No checksum, as zstd's library default.
		enc, err := zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(ZstdLevel)),
			zstd.WithEncoderConcurrency(1),
			zstd.WithEncoderCRC(false))
		if err != nil {
			panic(err)
		}
		x.zs = enc
	default:
		panic(fmt.Sprintf("codec: unknown codec %d", uint8(c)))
	}
	return x
}

// Codec reports the codec this Compressor uses.
func (x *Compressor) Codec() Codec { return x.codec }

// Compress appends the compressed form of src to dst and returns the result.
func (x *Compressor) Compress(dst, src []byte) []byte {
	switch x.codec {
	case Gzip:
		return x.gzip(dst, src)
	case Snappy:
		return snappyFramed(dst, src)
	case LZ4:
		return x.lz4Frame(dst, src)
	case Zstd:
		return x.zs.EncodeAll(src, dst)
	default:
		return append(dst, src...)
	}
}

func (x *Compressor) gzip(dst, src []byte) []byte {
	x.out.b = dst
	x.gz.Reset(&x.out)
	// Writes to sliceWriter cannot fail.
	_, _ = x.gz.Write(src)
	_ = x.gz.Close()
	dst, x.out.b = x.out.b, nil
	return dst
}

// lz4Frame mirrors Lz4BlockOutputStream: header, then per 64 KiB block a
// little-endian length (high bit set when stored raw because compression did
// not shrink it) and the block, then a zero end mark.
func (x *Compressor) lz4Frame(dst, src []byte) []byte {
	dst = append(dst, lz4FrameHeader...)
	for len(src) > 0 {
		n := min(len(src), lz4BlockSize)
		block := src[:n]
		src = src[n:]
		start := len(dst)
		dst = grow(dst, 4+lz4.CompressBlockBound(n))
		c, err := x.lz.CompressBlock(block, dst[start+4:])
		if err != nil || c == 0 || c >= n {
			binary.LittleEndian.PutUint32(dst[start:], uint32(n)|lz4Incompressible)
			dst = append(dst[:start+4], block...)
			continue
		}
		binary.LittleEndian.PutUint32(dst[start:], uint32(c))
		dst = dst[:start+4+c]
	}
	return append(dst, 0, 0, 0, 0)
}

// snappyFramed mirrors snappy-java's SnappyOutputStream: the stream header,
// then per 32 KiB block a big-endian compressed length and a raw snappy block.
func snappyFramed(dst, src []byte) []byte {
	dst = append(dst, snappyStreamHeader...)
	for len(src) > 0 {
		n := min(len(src), snappyBlockSize)
		start := len(dst)
		dst = grow(dst, 4+s2.MaxEncodedLen(n))
		enc := s2.EncodeSnappy(dst[start+4:], src[:n])
		binary.BigEndian.PutUint32(dst[start:], uint32(len(enc)))
		dst = dst[:start+4+len(enc)]
		src = src[n:]
	}
	return dst
}

// grow extends dst by n bytes of scratch space, reallocating only when the
// capacity is short.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) < n {
		nd := make([]byte, len(dst), 2*cap(dst)+n)
		copy(nd, dst)
		dst = nd
	}
	return dst[:len(dst)+n]
}

// sliceWriter is an io.Writer appending to a byte slice, so gzip can write
// straight into the caller's dst.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
