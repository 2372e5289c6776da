package broker

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Version is a Kafka release, major.minor, whose broker behaviour to model.
// Only behaviour that changed between releases depends on it (Config's
// Version says which).
type Version struct{ Major, Minor int }

// Versions are the releases the simulator models, oldest first.
var Versions = []Version{{3, 6}, {3, 7}, {3, 8}, {3, 9}, {4, 0}, {4, 1}, {4, 2}, {4, 3}, {4, 4}}

// DefaultVersion is the release modelled unless a scenario says otherwise.
var DefaultVersion = Version{4, 0}

func (v Version) String() string { return strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor) }

// AtLeast reports whether v is release major.minor or a later one.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

// ParseVersion reads a modelled release written as Kafka numbers it, like
// "3.7".
func ParseVersion(s string) (Version, error) {
	major, minor, _ := strings.Cut(s, ".")
	v := Version{Major: -1, Minor: -1}
	if n, err := strconv.Atoi(major); err == nil {
		v.Major = n
	}
	if n, err := strconv.Atoi(minor); err == nil {
		v.Minor = n
	}
	// Written exactly as String writes it: no sign, space or leading zero.
	if v.String() != s || !slices.Contains(Versions, v) {
		names := make([]string, len(Versions))
		for i, m := range Versions {
			names[i] = m.String()
		}
		return Version{}, fmt.Errorf("%q is not a modelled Kafka version; use one of %s", s, strings.Join(names, ", "))
	}
	return v, nil
}
