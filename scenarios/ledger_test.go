package scenarios

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kafkasim/kafkasim/broker"
	"github.com/kafkasim/kafkasim/sim"
)

// TestLedgerEntrySize keeps the per-record ledger at the 24 bytes:
// what a batch shares belongs in the batch table.
func TestLedgerEntrySize(t *testing.T) {
	assert.EqualValues(t, 24, unsafe.Sizeof(recState{}))
}

// TestLedger checks that what the ledger works out (send times across
// the 2^32 ns boundary, topics from ids, callback times from the batch
// table or told apart, groups) is what was entered.
func TestLedger(t *testing.T) {
	r := &runner{pl: &plan{topics: []int{2, 0}}}
	r.newLedger(4)
	sends := []sim.Time{7, 1<<32 - 1, 1 << 32, 5<<32 + 3, 5<<32 + 3}
	for i, at := range sends {
		group := int32(-1)
		if i == 3 {
			group = 4
		}
		r.addRecord(broker.RecordID(i+1), at, -1, 1, group)
	}
	for i, at := range sends {
		id := broker.RecordID(i + 1)
		assert.Equal(t, at, r.sentAt(id), "sentAt(%d)", id)
		assert.Equal(t, []int{2, 0}[i%2], r.topicOf(id), "topicOf(%d)", id)
		assert.Equal(t, map[bool]int32{true: 4, false: -1}[i == 3], r.groupOf(id), "groupOf(%d)", id)
		assert.Equal(t, int32(-1), r.partitionOf(id), "no callback yet")
		assert.Equal(t, sim.Time(0), r.doneAt(id), "no callback yet")
	}
	require.True(t, r.batchDone(3, 1, 100))
	r.recs[1].batch, r.recs[2].batch = 3, 3
	assert.True(t, r.batchDone(3, 1, 100), "the same callback again")
	assert.False(t, r.batchDone(3, 1, 200), "a second callback at another time")
	r.doneAlone[2] = 200
	assert.Equal(t, sim.Time(100), r.doneAt(1))
	assert.Equal(t, sim.Time(200), r.doneAt(2))
	assert.Equal(t, int32(1), r.partitionOf(2))
}
