package producer

// murmur2 is Kafka's variant of MurmurHash2 (org.apache.kafka.common.utils.Utils.murmur2):
// seed 0x9747b28c, little-endian 4-byte blocks, Java's unsigned shifts. The
// Java method returns an int; so does this, bit for bit.
func murmur2(data []byte) int32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	length := len(data)
	h := seed ^ uint32(length)
	n := length / 4
	for i := 0; i < n; i++ {
		k := uint32(data[4*i]) | uint32(data[4*i+1])<<8 | uint32(data[4*i+2])<<16 | uint32(data[4*i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	tail := data[4*n:]
	switch len(tail) {
	case 3:
		h ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(tail[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int32(h)
}

// toPositive is Utils.toPositive: clear the sign bit (not Math.abs).
func toPositive(n int32) int32 { return n & 0x7fffffff }

// KeyPartition is where the Java client puts a keyed record
// (BuiltInPartitioner.partitionForKey): murmur2 of the key bytes, made
// positive, modulo the number of all partitions, leaderless ones included.
func KeyPartition(key []byte, partitions int) int {
	return int(toPositive(murmur2(key))) % partitions
}
