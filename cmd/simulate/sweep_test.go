package main

import (
	"encoding/csv"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sweepArgs is a small grid: 2 linger values x 2 acks x 3 seeds.
func sweepArgs(extra ...string) []string {
	return append([]string{"sweep", "inflight-one-keeps-order", "--set", "workload.records=1500",
		"--vary", "producer.linger.ms=0,5", "--vary", "producer.acks=1,all", "--seeds", "1-3"}, extra...)
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	return rows
}

// TestSweepParallelIsDeterministic: the number of workers must not change
// a byte of the output.
func TestSweepParallelIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	var csvs, tables []string
	for _, n := range []string{"1", "4"} {
		path := filepath.Join(dir, "p"+n+".csv")
		code, stdout, stderr := simulate(sweepArgs("--parallel", n, "--csv", path)...)
		require.Equal(t, 0, code, stderr)
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		csvs = append(csvs, string(data))
		tables = append(tables, stdout)
	}
	require.NotEmpty(t, csvs[0])
	assert.Equal(t, csvs[0], csvs[1])
	assert.Equal(t, tables[0], tables[1])
}

func TestSweepGridOrderAndColumns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.csv")
	code, stdout, stderr := simulate(sweepArgs("--csv", path)...)
	require.Equal(t, 0, code, stderr)
	rows := readCSV(t, path)
	require.Len(t, rows, 1+2*2*3)
	// Headers are report paths with their units: "records.lost (records)".
	var head []string
	for _, h := range rows[0] {
		path, _, _ := strings.Cut(h, " (")
		head = append(head, path)
	}
	assert.Equal(t, []string{"producer.linger.ms", "producer.acks", "seed"}, head[:3])

	// The first --vary varies slowest, the seed fastest.
	var grid []string
	for _, r := range rows[1:] {
		grid = append(grid, strings.Join(r[:3], " "))
	}
	assert.Equal(t, []string{"0 1 1", "0 1 2", "0 1 3", "0 all 1", "0 all 2", "0 all 3",
		"5 1 1", "5 1 2", "5 1 3", "5 all 1", "5 all 2", "5 all 3"}, grid)

	for _, c := range []string{"records.lost", "errors.NOT_ENOUGH_REPLICAS", "metrics.record-send-rate",
		"latency_ms.p99", "partitions.orders-0.records", "partitions.orders-0.leader_elections", "anomaly_count"} {
		assert.Contains(t, head, c)
	}
	for _, c := range head {
		assert.False(t, strings.HasPrefix(c, "config") || strings.HasPrefix(c, "anomalies") ||
			strings.HasPrefix(c, "timeline") || strings.HasPrefix(c, "expectations") || c == "scenario", c)
	}
	// Sections in a fixed order, names sorted within each.
	rank := func(c string) int {
		for i, s := range []string{"records.", "errors.", "metrics.", "latency_ms.", "partitions."} {
			if strings.HasPrefix(c, s) {
				return i
			}
		}
		return 5
	}
	metrics := head[3:]
	// After every number, the mean, sd, min and max of the table's columns.
	stats := slices.IndexFunc(metrics, func(c string) bool { return strings.HasSuffix(c, " mean") })
	require.Positive(t, stats)
	assert.Equal(t, "inflight-one-keeps-order's expect path records.reordered mean", "inflight-one-keeps-order's expect path "+metrics[stats])
	metrics = metrics[:stats]
	assert.True(t, slices.IsSortedFunc(metrics, func(a, b string) int {
		if c := rank(a) - rank(b); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	}), "%v", metrics)
	for _, r := range rows[1:] {
		require.Len(t, r, len(head))
		assert.Equal(t, "1500", r[slices.Index(head, "records.sent")])
	}

	// The table: what a cell is, a header and one row per combination.
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	require.Len(t, lines, 2+4)
	assert.Contains(t, lines[0], "each row is 3 runs, seeds 1-3; a cell is their mean ± standard deviation [min–max]")
	assert.Contains(t, lines[1], "metrics.record-send-rate (records/s)")
	assert.Regexp(t, `^\s*5\s+all\s+3\s+0\s+0\s+1500\s+1500\s`, lines[5])
}

func TestSweepSeeds(t *testing.T) {
	tests := []struct {
		name  string
		seeds []string
		want  []string
	}{
		{"the scenario's own", nil, []string{"1", "1"}},
		{"one", []string{"--seeds", "7"}, []string{"7", "7"}},
		{"a range", []string{"--seeds", "3-4"}, []string{"3", "4", "3", "4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"sweep", "inflight-one-keeps-order", "--set", "workload.records=100",
				"--vary", "producer.linger.ms=0,5", "--csv", "-"}, tt.seeds...)
			code, stdout, stderr := simulate(args...)
			require.Equal(t, 0, code, stderr)
			rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
			require.NoError(t, err)
			var seeds []string
			for _, r := range rows[1:] {
				seeds = append(seeds, r[1])
			}
			assert.Equal(t, tt.want, seeds)
		})
	}
}

// TestSweepColumns: --columns chooses the table's columns, in order.
func TestSweepColumns(t *testing.T) {
	code, stdout, stderr := simulate("sweep", "inflight-one-keeps-order", "--set", "workload.records=300",
		"--vary", "producer.compression.type=none,lz4", "--columns", "records.reordered, metrics.compression-rate-avg")
	require.Equal(t, 0, code, stderr)
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	require.Len(t, lines, 4, stdout)
	assert.Regexp(t, `^\s*producer.compression.type\s+seeds\s+records.reordered \(records\)\s+metrics.compression-rate-avg \(ratio\)\s*$`, lines[1])
	assert.Regexp(t, `^\s*none\s+1\s+0\s+1\s*$`, lines[2])
}

// TestSweepPartitioners: the default partitioner has a name, so sticky
// against round robin is a --vary.
func TestSweepPartitioners(t *testing.T) {
	code, stdout, stderr := simulate("sweep", "sticky-vs-round-robin", "--set", "workload.records=3000",
		"--vary", "producer.partitioner.class=built-in,org.apache.kafka.clients.producer.RoundRobinPartitioner",
		"--columns", "metrics.batch-size-avg")
	require.Equal(t, 0, code, stderr)
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	require.Len(t, lines, 4, stdout)
	sticky, roundRobin := strings.Fields(lines[2]), strings.Fields(lines[3])
	require.Equal(t, []string{"built-in", "1"}, sticky[:2])
	require.Equal(t, []string{"org.apache.kafka.clients.producer.RoundRobinPartitioner", "1"}, roundRobin[:2])
	s, err := strconv.ParseFloat(sticky[2], 64)
	require.NoError(t, err)
	r, err := strconv.ParseFloat(roundRobin[2], 64)
	require.NoError(t, err)
	assert.Greater(t, s, 2*r, "sticky batches are fuller")
}

func TestSweepPlot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sweep.png")
	code, _, stderr := simulate(sweepArgs("--plot", path)...)
	require.Equal(t, 0, code, stderr)
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Greater(t, img.Bounds().Dy(), img.Bounds().Dx(), "stacked panels")
}

func TestSweepBadInput(t *testing.T) {
	base := []string{"sweep", "inflight-one-keeps-order"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no scenario", []string{"sweep"}, "sweep needs one scenario"},
		{"vary without values", []string{"--vary", "producer.acks"}, `--vary "producer.acks": expected KEY=V1,V2,...`},
		{"vary empty value", []string{"--vary", "producer.acks=1,,all"}, `--vary "producer.acks=1,,all": an empty value`},
		{"vary twice", []string{"--vary", "producer.acks=1", "--vary", "producer.acks=all"}, "--vary producer.acks given twice"},
		{"vary unknown key", []string{"--vary", "producer.ack=1,all"}, `--vary producer.ack=1: built-in inflight-one-keeps-order: --set producer.ack: unknown producer property "ack"`},
		{"vary bad value", []string{"--vary", "producer.acks=1,2"}, "--vary producer.acks=2: "},
		{"vary bad combination", []string{"--vary", "producer.enable.idempotence=true", "--vary", "producer.acks=1"},
			"--vary combination producer.enable.idempotence=true, producer.acks=1: "},
		{"bad set", []string{"--set", "producer.ack=1"}, `unknown producer property "ack"`},
		{"seeds backwards", []string{"--seeds", "5-1"}, "--seeds 5-1: the range must go up"},
		{"seeds not numbers", []string{"--seeds", "a-b"}, `--seeds "a-b": expected A-B`},
		{"too many seeds", []string{"--seeds", "1-1000000"}, "more than 100000 seeds"},
		{"parallel zero", []string{"--parallel", "0"}, "--parallel 0: must be at least 1"},
		{"parallel a million", []string{"--parallel", "1000000"}, "--parallel 1000000: must be at least 1 and at most 256"},
		{"plot format", []string{"--vary", "producer.acks=1,all", "--plot", "x.pdf"}, "must end in .png or .svg"},
		{"plot without vary", []string{"--plot", "x.png"}, "--plot needs a --vary"},
		{"y-from-data without plot", []string{"--vary", "producer.acks=1,all", "--y-from-data"}, "--y-from-data is for the plot's axes: it needs --plot FILE"},
		{"unknown column", []string{"--columns", "records.lost,metrics.compression-rate"},
			"--columns metrics.compression-rate: unknown report path: metrics has batch-size-avg, batch-split-rate"},
		{"no column", []string{"--columns", ","}, "--columns: name at least one report path, like records.lost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.name != "no scenario" {
				args = append(slices.Clone(base), tt.args...)
			}
			badInput(t, tt.want, args...)
		})
	}
}

func TestPlotCommand(t *testing.T) {
	for _, svg := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "charts")
		args := []string{"plot", "retry-duplicates", "--out", dir, "--set", "workload.records=500"}
		ext := ".png"
		if svg {
			args, ext = append(args, "--svg"), ".svg"
		}
		code, stdout, stderr := simulate(args...)
		require.Equal(t, 0, code, stderr)
		paths := strings.Split(strings.TrimSpace(stdout), "\n")
		require.Len(t, paths, 7, "five charts and the space-time diagram in both formats")
		assert.Equal(t, []string{"spacetime.svg", "spacetime.png"}, []string{filepath.Base(paths[5]), filepath.Base(paths[6])})
		for i, p := range paths {
			assert.Equal(t, dir, filepath.Dir(p))
			if i < 5 {
				assert.Equal(t, ext, filepath.Ext(p))
			}
			info, err := os.Stat(p)
			require.NoError(t, err)
			assert.Greater(t, info.Size(), int64(1000))
		}
	}
	badInput(t, "plot needs --out DIR", "plot", "retry-duplicates")
}

// BenchmarkSweep100x10k is a sweep of 100 runs of 10,000 records each on
// every core.
func BenchmarkSweep100x10k(b *testing.B) {
	args := []string{"sweep", "inflight-one-keeps-order", "--set", "workload.records=10000", "--set", "duration=15s",
		"--seeds", "1-100", "--csv", filepath.Join(b.TempDir(), "bench.csv")}
	runs := 0
	for b.Loop() {
		code, _, stderr := simulate(args...)
		if code != 0 {
			b.Fatal(stderr)
		}
		runs += 100
	}
	b.ReportMetric(float64(runs)/b.Elapsed().Seconds(), "runs/s")
}

// BenchmarkSweepSpeedup runs a sweep of 100 small runs (3,000 records
// each) on one core (GOMAXPROCS=1, --parallel 1) and on two (GOMAXPROCS=2,
// --parallel 2), alternating, and reports how many times faster two cores
// are (speedup, from wall-clock time; the issue asks for at least 1.6).
// Wall-clock time needs an otherwise idle machine; cpu-ratio, the process
// CPU time of the two-core sweeps over the one-core ones, does not: the
// speedup an idle machine can give is at most 2/cpu-ratio. cpu-ms/run is
// the CPU time of a run in the one-core sweeps.
func BenchmarkSweepSpeedup(b *testing.B) {
	if runtime.NumCPU() < 2 {
		b.Skip("needs two cores")
	}
	csv := filepath.Join(b.TempDir(), "bench.csv")
	sweep := func(cores int) (wall, cpu time.Duration) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(cores))
		start, cpuStart := time.Now(), cpuTime()
		code, _, stderr := simulate("sweep", "inflight-one-keeps-order", "--seeds", "1-100",
			"--parallel", strconv.Itoa(cores), "--csv", csv)
		if code != 0 {
			b.Fatal(stderr)
		}
		return time.Since(start), cpuTime() - cpuStart
	}
	var one, two, cpuOne, cpuTwo time.Duration
	for b.Loop() {
		w, c := sweep(1)
		one, cpuOne = one+w, cpuOne+c
		w, c = sweep(2)
		two, cpuTwo = two+w, cpuTwo+c
	}
	b.ReportMetric(one.Seconds()/two.Seconds(), "speedup")
	b.ReportMetric(cpuTwo.Seconds()/cpuOne.Seconds(), "cpu-ratio")
	b.ReportMetric(100*float64(b.N)/two.Seconds(), "runs/s-2-cores")
	b.ReportMetric(float64(cpuOne.Microseconds())/1000/100/float64(b.N), "cpu-ms/run")
}

// cpuTime is the process's CPU time so far, every thread's.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
