package broker

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Features are a cluster's finalized feature levels (Kafka's
// FinalizedFeatures, set with kafka-storage.sh format --feature or
// kafka-features.sh upgrade), the ones the simulator models. Every broker
// has the same; clients learn them from ApiVersions, which the simulator
// folds into the connection's first round trip (ConnectAck).
//
// One entry per feature: its name, its levels, the release a level needs
// and the level a new cluster of a release gets.
type feature struct {
	name   string
	levels []int16
	// needs is the first release a level may be set in (a level's
	// bootstrapMetadataVersion); levels not listed need nothing.
	needs map[int16]Version
	// def is the level a new cluster of release v starts with.
	def func(v Version) int16
	// level and set read and write the level in a Config.
	level func(c *Config) int16
	set   func(c *Config, l int16)
}

// TransactionVersionFeature is transaction.version (TransactionVersion):
// 0 is the original protocol (KIP-98), 1 adds flexible records to
// __transaction_state (nothing the simulator shows), and 2 is KIP-890 part
// 2: the producer epoch is bumped at the end of every transaction and
// partitions join a transaction when their leader first writes to them.
// Levels 1 and 2 need metadata.version 4.0-IV2, so release 4.0; clusters
// formatted by 4.0 and later start at 2 (Kafka docs, "Transaction
// Protocol").
const TransactionVersionFeature = "transaction.version"

var features = []feature{
	{name: TransactionVersionFeature, levels: []int16{0, 1, 2},
		needs: map[int16]Version{1: {4, 0}, 2: {4, 0}},
		def: func(v Version) int16 {
			if v.AtLeast(4, 0) {
				return 2
			}
			return 0
		},
		level: func(c *Config) int16 { return c.TransactionVersion },
		set:   func(c *Config, l int16) { c.TransactionVersion = l }},
}

// FeatureNames lists the features the simulator models.
func FeatureNames() []string {
	names := make([]string, len(features))
	for i, f := range features {
		names[i] = f.name
	}
	return names
}

// SetFeatures sets c's feature levels for its Version: each given level
// (name to level, as written) after checking it, the others at the level a
// new cluster of that release gets.
func (c *Config) SetFeatures(given map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(given)) {
		if !slices.ContainsFunc(features, func(f feature) bool { return f.name == name }) {
			return &ConfigError{Key: name, Message: fmt.Sprintf("%q is not a feature the simulator models; use %s", name, strings.Join(FeatureNames(), ", "))}
		}
	}
	for _, f := range features {
		raw, ok := given[f.name]
		if !ok {
			f.set(c, f.def(c.Version))
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 16)
		if err != nil || !slices.Contains(f.levels, int16(n)) {
			levels := make([]string, len(f.levels))
			for i, l := range f.levels {
				levels[i] = strconv.Itoa(int(l))
			}
			return &ConfigError{Key: f.name, Message: fmt.Sprintf("%q is not a level of %s; use one of %s", raw, f.name, strings.Join(levels, ", "))}
		}
		if v, ok := f.needs[int16(n)]; ok && !c.Version.AtLeast(v.Major, v.Minor) {
			return &ConfigError{Key: f.name, Message: fmt.Sprintf("%s %d needs cluster.version %s or later (Kafka %s cannot finalize it); use %d",
				f.name, n, v, c.Version, f.def(c.Version))}
		}
		f.set(c, int16(n))
	}
	return nil
}

// FeatureLevels is every modelled feature's level in c, by name.
func (c *Config) FeatureLevels() map[string]int16 {
	out := make(map[string]int16, len(features))
	for _, f := range features {
		out[f.name] = f.level(c)
	}
	return out
}

// TransactionV2 reports whether transaction.version is 2 or more
// (TransactionVersion.supportsEpochBump).
func (c *Config) TransactionV2() bool { return c.TransactionVersion >= 2 }
