package broker

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTransactionVersionFeature: transaction.version is 2 on new clusters
// from 4.0 and 0 before; levels 1 and 2 need 4.0 (TransactionVersion's
// bootstrap metadata.version 4.0-IV2).
func TestTransactionVersionFeature(t *testing.T) {
	for _, tc := range []struct {
		version Version
		given   string // "" leaves it out
		want    int16
		err     string
	}{
		{version: Version{4, 0}, want: 2},
		{version: Version{4, 4}, want: 2},
		{version: Version{3, 9}, want: 0},
		{version: Version{3, 6}, want: 0},
		{version: Version{4, 0}, given: "1", want: 1},
		{version: Version{4, 1}, given: "0", want: 0},
		{version: Version{3, 9}, given: "0", want: 0},
		{version: Version{3, 9}, given: "2",
			err: "transaction.version=2 needs cluster.version 4.0 or later (transaction.version 1 and 2 need metadata.version 4.0-IV2); this cluster is 3.9"},
		{version: Version{4, 0}, given: "3", err: `"3" is not a level of transaction.version; use 0 to 2`},
	} {
		c := DefaultConfig()
		c.Version = tc.version
		var given map[string]string
		if tc.given != "" {
			given = map[string]string{"transaction.version": tc.given}
		}
		err := c.SetFeatures(given)
		if tc.err != "" {
			require.Error(t, err, "%v %q", tc.version, tc.given)
			assert.Equal(t, tc.err, err.Error())
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.want, c.TransactionVersion, "%v %q", tc.version, tc.given)
		assert.Equal(t, tc.want >= 2, c.TransactionV2())
	}
}
