package broker

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// A feature is a cluster-wide protocol switch that the controller
// finalizes, set with kafka-storage.sh format --feature NAME=LEVEL on a new
// cluster or kafka-features.sh upgrade --feature NAME=LEVEL later. A new
// cluster of a release starts at the level that release bootstraps
// (FeatureVersion.bootstrapMetadataVersion); an upgraded one keeps its
// levels until raised. The simulator models new clusters, so a feature
// left out takes its release's bootstrap level.
type feature struct {
	name string
	max  int // levels are 0 to max
	// on is the first release whose new clusters bootstrap level max;
	// needs is the oldest release whose metadata.version allows it (a
	// FeatureVersion's dependencies).
	on, needs Version
	why       string // what level max turns on, for the error that refuses it
	set       func(c *Config, level int)
}

// features is the table of modelled features, in the order the simulator
// lists them.
var features = []feature{
	// EligibleLeaderReplicasVersion: ELRV_1 bootstraps at metadata.version
	// 4.1-IV0 and depends on 4.0-IV1 (KIP-966; the 4.1 upgrade notes: "ELR
	// will be enabled by default on the new clusters").
	{name: "eligible.leader.replicas.version", max: 1, on: Version{4, 1}, needs: Version{4, 0},
		why: "Eligible Leader Replicas (KIP-966) need metadata.version 4.0-IV1",
		set: func(c *Config, level int) { c.EligibleLeaderReplicas = level == 1 }},
	// TransactionVersion: 0 is the original protocol (KIP-98), 1 adds
	// flexible records to __transaction_state (nothing the simulator
	// shows), and 2 is KIP-890 part 2: the producer epoch is bumped at the
	// end of every transaction and partitions join a transaction when
	// their leader first sees a write to them. TV_1 and TV_2 bootstrap at
	// metadata.version 4.0-IV2: clusters formatted by 4.0 and later start
	// at 2 (Kafka docs, "Transaction Protocol").
	{name: "transaction.version", max: 2, on: Version{4, 0}, needs: Version{4, 0},
		why: "transaction.version 1 and 2 need metadata.version 4.0-IV2",
		set: func(c *Config, level int) { c.TransactionVersion = int16(level) }},
}

// FeatureNames lists the modelled features, in table order.
func FeatureNames() []string {
	names := make([]string, len(features))
	for i, f := range features {
		names[i] = f.name
	}
	return names
}

// FeatureDefaults is every feature's level on a new cluster of release v.
func FeatureDefaults(v Version) map[string]string {
	out := make(map[string]string, len(features))
	for _, f := range features {
		out[f.name] = strconv.Itoa(f.defaultLevel(v))
	}
	return out
}

func (f *feature) defaultLevel(v Version) int {
	if v.AtLeast(f.on.Major, f.on.Minor) {
		return f.max
	}
	return 0
}

// SetFeatures sets the feature levels given (name to level, as written),
// every other one at its default for c.Version, which must be set first.
// The error's Key is the feature at fault.
func (c *Config) SetFeatures(given map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(given)) {
		if !slices.Contains(FeatureNames(), name) {
			return &ConfigError{Key: name, Message: "unknown feature; the simulator models: " + strings.Join(FeatureNames(), ", ")}
		}
	}
	for i := range features {
		f := &features[i]
		level := f.defaultLevel(c.Version)
		if raw, ok := given[f.name]; ok {
			n, err := strconv.Atoi(strings.TrimSpace(raw))
			if err != nil || n < 0 || n > f.max {
				return &ConfigError{Key: f.name, Message: fmt.Sprintf("%q is not a level of %s; use 0 to %d", raw, f.name, f.max)}
			}
			if n > 0 && !c.Version.AtLeast(f.needs.Major, f.needs.Minor) {
				return &ConfigError{Key: f.name, Message: fmt.Sprintf("%s=%d needs cluster.version %v or later (%s); this cluster is %v",
					f.name, n, f.needs, f.why, c.Version)}
			}
			level = n
		}
		f.set(c, level)
	}
	return nil
}

// TransactionV2 reports whether transaction.version is 2 or more
// (TransactionVersion.supportsEpochBump).
func (c *Config) TransactionV2() bool { return c.TransactionVersion >= 2 }
