package scenarios

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chaosFailures runs a scenario file and lists what went wrong, each entry
// starting with the name of the broken promise: "invalid" (the generator
// wrote a file validation refuses), "panic", then the names violations
// uses. It also returns the run, nil when there was none.
func chaosFailures(src string) (failures []string, res *Result) {
	s, err := Parse("chaos", []byte(src), nil)
	if err != nil {
		return []string{"invalid: " + err.Error()}, nil
	}
	defer func() {
		if p := recover(); p != nil {
			failures, res = []string{fmt.Sprint("panic: ", p), "stack: " + string(debug.Stack())}, nil
		}
	}()
	res = s.Run(RunOptions{CheckInvariants: true, Messages: true})
	return violations(res), res
}

// failureKind is the broken promise's name in one of chaosFailures' entries.
func failureKind(failure string) string {
	kind, _, _ := strings.Cut(failure, ":")
	return kind
}

// chaosCases is how many random scenarios TestChaos runs: 5,000 in the
// deep CI sweep, 300 by default (under two seconds), 30 with -short.
func chaosCases() int {
	switch {
	case deep:
		return 5000
	case testing.Short():
		return 30
	}
	return 300
}

// TestChaos runs random valid scenarios (chaos, or swarm, testing: each a
// random mix of settings, topology and faults) and checks every promise
// violations knows on each. A failing case is shrunk and logged, and
// written as drawn and as shrunk to $KAFKASIM_CHAOS_DIR (else the test's
// temporary directory): scenario files to replay with `simulate run FILE`
// and to keep under testdata/corner-cases with a TestCornerCases entry.
func TestChaos(t *testing.T) {
	dir := os.Getenv("KAFKASIM_CHAOS_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	cases := chaosCases()
	var loss, idempotence, txn int
	for i := range cases {
		c := randomCase(rand.New(rand.NewPCG(uint64(i), 7)))
		failures, res := chaosFailures(c.yaml())
		if res != nil {
			l, id, x := promises(res)
			loss, idempotence, txn = loss+b2i(l), idempotence+b2i(id), txn+b2i(x)
		}
		if len(failures) == 0 {
			continue
		}
		kind := failureKind(failures[0])
		small := shrink(c, chaosCase.smaller, func(v chaosCase) bool {
			fs, _ := chaosFailures(v.yaml())
			return slices.ContainsFunc(fs, func(f string) bool { return failureKind(f) == kind })
		}, 300)
		base := filepath.Join(dir, fmt.Sprintf("chaos-%d-%s", i, strings.ReplaceAll(kind, " ", "-")))
		header := fmt.Sprintf("# chaos case %d (randomCase(rand.New(rand.NewPCG(%d, 7)))): %s\n", i, i, failures[0])
		require.NoError(t, os.WriteFile(base+".yaml", []byte(header+c.yaml()), 0o644))
		require.NoError(t, os.WriteFile(base+"-shrunk.yaml", []byte(header+small.yaml()), 0o644))
		t.Errorf("chaos case %d: %s\nwritten to %s.yaml, shrunk to %s-shrunk.yaml:\n%s", i, strings.Join(failures, "; "), base, base, small.yaml())
	}
	// The checks are not vacuous: each promise applies to a fair share of
	// the cases.
	assert.GreaterOrEqual(t, loss, cases/20, "cases where no acknowledged record may be lost")
	assert.GreaterOrEqual(t, idempotence, cases/10, "cases where idempotence must hold")
	assert.GreaterOrEqual(t, txn, cases/20, "cases where transactions must hold")
	t.Logf("%d cases: no loss promised in %d, idempotence in %d, transactions in %d", cases, loss, idempotence, txn)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestChaosGeneratesValidScenarios checks the generator: every case parses,
// and together they use every fault kind.
func TestChaosGeneratesValidScenarios(t *testing.T) {
	kinds := map[string]bool{}
	for i := range 300 {
		c := randomCase(rand.New(rand.NewPCG(uint64(i), 7)))
		_, err := Parse("chaos", []byte(c.yaml()), nil)
		require.NoError(t, err, c.yaml())
		for _, f := range c.faults {
			kinds[f.do] = true
		}
	}
	for _, k := range faultKinds {
		assert.True(t, kinds[k.name], "no case uses fault kind %s", k.name)
	}
}

// TestShrink shrinks with a fake failure, "fails while a crash fault and at
// least 100 records remain": the result keeps exactly that.
func TestShrink(t *testing.T) {
	var c chaosCase
	for i := uint64(0); ; i++ {
		c = randomCase(rand.New(rand.NewPCG(i, 7)))
		if len(c.faults) >= 3 && c.records >= 400 && slices.ContainsFunc(c.faults, func(f chaosFault) bool { return f.do == "crash" }) {
			break
		}
	}
	fails := func(v chaosCase) bool {
		return v.records >= 100 && slices.ContainsFunc(v.faults, func(f chaosFault) bool { return f.do == "crash" })
	}
	before := c.yaml()
	small := shrink(c, chaosCase.smaller, fails, 1000)
	assert.True(t, fails(small), "the shrunk case still fails")
	require.Len(t, small.faults, 1)
	assert.Equal(t, "crash", small.faults[0].do)
	assert.Less(t, small.records, 200, "records halved while the failure held")
	assert.GreaterOrEqual(t, small.records, 100)
	assert.Empty(t, small.broker, "every broker property back to its default")
	assert.Empty(t, small.producer, "every producer property back to its default")
	assert.Equal(t, 1, small.brokers)
	for _, tp := range small.topics {
		assert.Equal(t, 1, tp.partitions)
	}
	assert.Equal(t, before, c.yaml(), "shrinking leaves the original alone")

	// A budget of runs stops the shrinker early.
	assert.Equal(t, c.yaml(), shrink(c, chaosCase.smaller, fails, 0).yaml())
}
