package sweep

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCatch(t *testing.T) {
	assert.Nil(t, Catch(func() {}))
	p := Catch(func() { panic("run 7 broke") })
	require.NotNil(t, p)
	assert.Equal(t, "run 7 broke", p.Error())
	assert.Contains(t, string(p.Stack), "TestCatch", "the stack of the goroutine that panicked")
}
