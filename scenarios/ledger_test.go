package scenarios

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

// TestLedgerEntrySize keeps the per-record ledger at the 24 bytes:
// what a batch shares belongs in the batch table.
func TestLedgerEntrySize(t *testing.T) {
	assert.EqualValues(t, 24, unsafe.Sizeof(recState{}))
}
