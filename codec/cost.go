package codec

import "time"

// CostRow is one codec's single-core throughput at Kafka's default level.
// MB means 10^6 bytes.
type CostRow struct {
	Codec          Codec
	CompressMBps   float64 // uncompressed bytes consumed per second
	DecompressMBps float64 // uncompressed bytes produced per second
	Source         string
}

// All figures are from one machine so they are comparable: lzbench 2.0 on a
// single core of an AMD EPYC 9554 at 3.10 GHz, turbo off, silesia.tar. JSON
// and prose usually compress faster than Silesia's mix, and the JVM reaches
// these native libraries through JNI or the JDK, so treat the table as
// relative costs of the right order, not as a Java measurement.
var costTable = [...]CostRow{
	{None, 0, 0, "no work: records are written as they are"},
	// Kafka gzip default = Deflater.DEFAULT_COMPRESSION = zlib level 6.
	{Gzip, 25.3, 344, "lzbench 2.0, zlib 1.3.1 -6 (inikep/lizard README benchmark table)"},
	// Kafka snappy = snappy-java, a JNI wrapper of Google's C++ snappy.
	{Snappy, 401, 1077, "lzbench 2.0.1, snappy 1.2.1 (inikep/lzbench doc/lzbench20_sorted.md)"},
	// Kafka lz4 default level 9 selects lz4-java's fast compressor
	// (Lz4BlockOutputStream), so the plain LZ4 row applies, not lz4hc -9.
	{LZ4, 579, 3728, "lzbench 2.0, lz4 1.10.0 (inikep/lizard README benchmark table)"},
	// Kafka zstd default level 3 (zstd-jni over libzstd).
	{Zstd, 250, 1210, "lzbench 2.0, zstd 1.5.6 -3 (inikep/lizard README benchmark table)"},
}

// CostTable returns a copy of the throughput table, in codec id order, for
// documentation and reports.
func CostTable() []CostRow {
	rows := costTable
	return rows[:]
}

// CompressCost is the producer CPU time to compress bytes of uncompressed
// input. None costs nothing.
func (c Codec) CompressCost(bytes int) time.Duration {
	return costAt(bytes, c.row().CompressMBps)
}

// DecompressCost is the CPU time to decompress to bytes of output.
func (c Codec) DecompressCost(bytes int) time.Duration {
	return costAt(bytes, c.row().DecompressMBps)
}

func (c Codec) row() CostRow {
	if int(c) < len(costTable) {
		return costTable[c]
	}
	return CostRow{Codec: c}
}

// costAt converts a size and a throughput in 10^6 bytes/s to a duration:
// bytes / (mbps * 1e6) seconds = bytes * 1e3 / mbps nanoseconds.
func costAt(bytes int, mbps float64) time.Duration {
	if mbps <= 0 || bytes <= 0 {
		return 0
	}
	return time.Duration(float64(bytes) * 1e3 / mbps)
}
